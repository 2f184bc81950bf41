package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The walk of an event at the top of docs/delivery.md names functions as
// package.Function or package.Type.Method: each must exist in hookd's
// source, so that the walk cannot drift from the code unnoticed.
func TestDeliveryDocWalkNamesExist(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "delivery.md"))
	if err != nil {
		t.Fatal(err)
	}
	section := docSection(string(doc), "## The path of an event")
	if section == "" {
		t.Fatal(`docs/delivery.md has no "## The path of an event" section`)
	}
	names := regexp.MustCompile("`([a-z][a-z0-9]*)\\.([A-Za-z_][A-Za-z0-9_]*)(?:\\.([A-Za-z_][A-Za-z0-9_]*))?`").
		FindAllStringSubmatch(section, -1)
	if len(names) < 20 {
		t.Fatalf("the walk names %d functions; expected the whole path (20 or more)", len(names))
	}
	decls := declarations(t, root)
	for _, m := range names {
		pkg, first, second := m[1], m[2], m[3]
		key := first
		if second != "" {
			key = first + "." + second
		}
		have, ok := decls[pkg]
		if !ok {
			t.Errorf("%s: no package %s in the source", m[0], pkg)
			continue
		}
		if !have[key] {
			t.Errorf("%s: package %s has no function or method %s", m[0], pkg, key)
		}
	}
}

// docSection returns the text under heading up to the next heading of
// the same level.
func docSection(doc, heading string) string {
	i := strings.Index(doc, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := doc[i+len(heading)+1:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// declarations maps each package name of the module to its functions
// ("Func") and methods ("Type.Method"), from the non-test files.
func declarations(t *testing.T, root string) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		have := out[f.Name.Name]
		if have == nil {
			have = map[string]bool{}
			out[f.Name.Name] = have
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok {
				continue
			}
			if fn.Recv == nil || len(fn.Recv.List) == 0 {
				have[fn.Name.Name] = true
				continue
			}
			have[receiverType(fn.Recv.List[0].Type)+"."+fn.Name.Name] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// receiverType is the name of a method's receiver type: T for T, *T,
// T[P] and *T[P].
func receiverType(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}
