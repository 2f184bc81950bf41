# Verify a v1 (HMAC-SHA256) webhook signature with openssl.
# In: WEBHOOK_SECRET (whsec_…); WEBHOOK_ID, WEBHOOK_TIMESTAMP and
# WEBHOOK_SIGNATURE (the three headers); body.json, the request body
# exactly as received. NOW (Unix seconds) replaces the clock if set.
key_hex=$(printf '%s' "${WEBHOOK_SECRET#whsec_}" | openssl base64 -d -A | od -An -v -tx1 | tr -d ' \n')
expected=$({ printf '%s.%s.' "$WEBHOOK_ID" "$WEBHOOK_TIMESTAMP"; cat body.json; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | openssl base64 -A)
case " $WEBHOOK_SIGNATURE " in # several signatures during a rotation: any may match
  *" v1,$expected "*) valid=yes ;;
  *) valid=no ;;
esac
age=$(( ${NOW:-$(date +%s)} - WEBHOOK_TIMESTAMP ))
if [ "$age" -gt 300 ] || [ "$age" -lt -300 ]; then valid=no; fi # 5 minutes tolerance
echo "signature valid: $valid"
[ "$valid" = yes ]
