package httpapi

import (
	_ "embed"
	"net/http"
)

// OpenAPI is the OpenAPI 3.1 document of the API (served at GET
// /openapi.json). It is written by hand; TestOpenAPIRoutes fails when a
// route is served but not described in it, or described but not served,
// and the end-to-end tests validate their requests and answers against
// it (docs/api.md, "OpenAPI").
//
//go:embed openapi.json
var OpenAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeRaw(w, http.StatusOK, OpenAPI)
}
