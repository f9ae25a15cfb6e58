package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Fuzzed request shapes: how the body travels, and who sends it.
const (
	viaJSON      = iota // POST application/json
	viaMultipart        // POST multipart/form-data (uploads)
	viaGET              // GET, the body as the query string
	viaOther            // POST with a content type the API does not take
)

const fuzzBoundary = "fuzzboundary"

// FuzzGraphQLHandler throws arbitrary bodies at the real /graphql handler
// (the server's whole http.Handler, on the real embedded database) as an
// anonymous caller, an admin and an owner. Whatever arrives, the answer is
// a 2xx or 4xx with a JSON body, every error in it carries extensions.code,
// and none is INTERNAL: malformed input is the client's fault, never a
// server error, and never a panic.
func FuzzGraphQLHandler(f *testing.F) {
	e := newEnv(f)
	w := e.world()
	tokens := []string{"", e.staff(w.adminAcct, w.Password).token, e.owner(w.OwnerA.Phone).token}
	h := e.App.Handler

	q := func(query string, vars any) []byte {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return b
	}
	multipart := func(operations, fileMap string, files map[string]string) []byte {
		var b bytes.Buffer
		part := func(name, filename, body string) {
			fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q", fuzzBoundary, name)
			if filename != "" {
				fmt.Fprintf(&b, "; filename=%q\r\nContent-Type: image/png", filename)
			}
			fmt.Fprintf(&b, "\r\n\r\n%s\r\n", body)
		}
		part("operations", "", operations)
		part("map", "", fileMap)
		for k, v := range files {
			part(k, "a.png", v)
		}
		fmt.Fprintf(&b, "--%s--\r\n", fuzzBoundary)
		return b.Bytes()
	}
	avatar := `{"query":"mutation($p:ID!,$f:Upload!){ updatePersonAvatar(personId:$p,photo:$f){ id } }","variables":{"p":"` + w.OwnerA.ID + `","f":null}}`
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	seeds := []struct {
		via, who int
		body     []byte
	}{
		{viaJSON, 0, q(`{ __typename }`, nil)},
		{viaJSON, 1, q(`{ me { kind roles } }`, nil)},
		{viaJSON, 2, q(`{ me { kind roles } }`, nil)},
		{viaJSON, 1, q(`query($a:String){ households(first:5, after:$a){ totalCount } }`, map[string]any{"a": "QR"})},
		{viaJSON, 1, q(`query($a:String){ households(first:5, after:$a){ totalCount } }`, map[string]any{"a": base64.RawURLEncoding.EncodeToString([]byte("\xff\xfe|x"))})},
		{viaJSON, 1, q(`query($c:ID!){ announcements(communityId:$c, first:101){ totalCount } }`, map[string]any{"c": w.X.ID})},
		{viaJSON, 1, q(`mutation($i:CreateHouseholdInput!){ createHousehold(input:$i){ id } }`, map[string]any{"i": map[string]any{"buildingId": w.XB1.ID, "unit": "1", "room": "909", "moveInDate": "2026-02-30"}})},
		{viaJSON, 1, q(`mutation($i:CreateHouseholdInput!){ createHousehold(input:$i){ id } }`, map[string]any{"i": map[string]any{"buildingId": "NOT-AN-ID", "unit": "1", "room": "909", "floorArea": 1e308}})},
		{viaJSON, 2, q(`mutation($p:ID!,$f:Upload!){ updatePersonAvatar(personId:$p,photo:$f){ id } }`, map[string]any{"p": w.OwnerA.ID, "f": "not a file"})},
		{viaJSON, 0, []byte(`{"query":`)},
		{viaJSON, 0, []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`)},
		{viaJSON, 0, []byte(`{"query":"{ __typename }","variables":"x","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`)},
		{viaJSON, 0, []byte(`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`)},
		{viaJSON, 0, []byte(`{"query":"query A { __typename } query B { __typename }","operationName":"C"}`)},
		{viaJSON, 0, []byte(`{"query":"` + strings.Repeat("{ me ", 200) + `"}`)},
		{viaJSON, 0, []byte("\xff\xfe\x00")},
		{viaJSON, 0, nil},
		{viaMultipart, 2, multipart(avatar, `{"0":["variables.f"]}`, map[string]string{"0": png})},
		{viaMultipart, 2, multipart(avatar, `{"0":["variables.nothere.x"]}`, map[string]string{"0": png})},
		{viaMultipart, 2, multipart(avatar, `{"0":[]}`, map[string]string{"0": png})},
		{viaMultipart, 2, multipart(avatar, `{"1":["variables.f"]}`, map[string]string{"0": png})},
		{viaMultipart, 2, multipart(avatar, `not json`, nil)},
		{viaMultipart, 2, multipart(`{`, `{}`, nil)},
		{viaMultipart, 0, []byte("--" + fuzzBoundary + "\r\n")},
		{viaGET, 0, []byte("query=%7B+__typename+%7D")},
		{viaGET, 1, []byte("query=mutation%7Blogout%7D")},
		{viaGET, 0, []byte("query=%7B__typename%7D&variables=%7B")},
		{viaGET, 0, []byte("%zz")},
		{viaOther, 0, q(`{ __typename }`, nil)},
	}
	for _, s := range seeds {
		f.Add(uint8(s.via+4*s.who), s.body)
	}

	f.Fuzz(func(t *testing.T, mode uint8, body []byte) {
		via, who := int(mode%4), int(mode/4%3)
		var req *http.Request
		switch via {
		case viaGET:
			req = httptest.NewRequest(http.MethodGet, "/graphql", nil)
			req.URL.RawQuery = string(body)
		default:
			req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", map[int]string{
				viaJSON: "application/json", viaMultipart: "multipart/form-data; boundary=" + fuzzBoundary, viaOther: "text/plain",
			}[via])
		}
		if tokens[who] != "" {
			req.Header.Set("Authorization", "Bearer "+tokens[who])
		}
		if mode&0x80 != 0 {
			req.Header.Set("Accept-Language", "en")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		var out struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body is not JSON (%v): %q", rec.Code, err, rec.Body.Bytes())
		}
		if rec.Code >= 400 && len(out.Errors) == 0 {
			t.Fatalf("status %d without errors: %s", rec.Code, rec.Body.Bytes())
		}
		for _, er := range out.Errors {
			code, _ := er.Extensions["code"].(string)
			if code == "" || code == "INTERNAL" {
				t.Fatalf("error without a client code (%q) for %q via %d: %s", code, body, via, rec.Body.Bytes())
			}
		}
	})
}
