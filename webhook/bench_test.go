package webhook_test

import (
	"bytes"
	"testing"
)

// benchBody is a typical delivery: 1.5 KB of JSON-ish bytes.
var benchBody = bytes.Repeat([]byte(`{"k":"value"},`), 1536/14+1)[:1536]

func BenchmarkSign(b *testing.B) {
	s := mustSigner(b, testSecretNew)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Sign(testMsgID, testTS, benchBody)
	}
}

func BenchmarkAppendSignature(b *testing.B) {
	s := mustSigner(b, testSecretNew)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = s.AppendSignature(buf[:0], testMsgID, testTS, benchBody)
	}
}

func BenchmarkSignEd25519(b *testing.B) {
	s := mustSigner(b, testPrivateKey)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Sign(testMsgID, testTS, benchBody)
	}
}

func BenchmarkVerify(b *testing.B) {
	s := mustSigner(b, testSecretNew)
	v := mustVerifier(b, testSecretNew)
	h := signedHeader(s, testMsgID, testTS, benchBody)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.Verify(h, benchBody); err != nil {
			b.Fatalf("Verify() = %v, want nil", err)
		}
	}
}

func BenchmarkVerifyEd25519(b *testing.B) {
	s := mustSigner(b, testPrivateKey)
	v := mustVerifier(b, testPublicKey)
	h := signedHeader(s, testMsgID, testTS, benchBody)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := v.Verify(h, benchBody); err != nil {
			b.Fatalf("Verify() = %v, want nil", err)
		}
	}
}
