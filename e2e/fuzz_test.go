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

// page64 is a cursor for key, as the server spells cursors.
func page64(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

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
		{viaJSON, 1, q(`query($a:String){ households(first:5, after:$a){ totalCount } }`, map[string]any{"a": page64("\xff\xfe|x")})},
		{viaJSON, 1, q(`query($c:ID!){ announcements(communityId:$c, first:101){ __typename } }`, map[string]any{"c": w.X.ID})},
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
		f.Add(uint8(s.via+4*s.who), uint8(0), s.body)
	}
	// Operations whose variables are fuzzed (mode bit 0x40): well-formed
	// requests that reach the resolvers, services and database.
	ops := []string{
		`query($f:HouseholdFilter,$n:Int,$a:String){ households(filter:$f, first:$n, after:$a){ __typename } }`,
		`mutation($i:CreateHouseholdInput!){ createHousehold(input:$i){ __typename } }`,
		`mutation($i:AddHouseholdMemberInput!){ addHouseholdMember(input:$i){ __typename } }`,
		`mutation($p:ID!,$i:CareProfileInput!){ updateCareProfile(personId:$p,input:$i){ __typename } }`,
		`mutation($i:RecordVisitInput!){ recordVisit(input:$i){ __typename } }`,
		`mutation($i:BookMoveInput!){ bookMove(input:$i){ __typename } }`,
		`mutation($i:NotificationPreferencesInput!){ updateNotificationPreferences(input:$i){ __typename } }`,
		`mutation($i:SubmitRepairRequestInput!){ submitRepairRequest(input:$i){ __typename } }`,
		`mutation($i:BookServiceInput!){ bookService(input:$i){ __typename } }`,
		`query($c:ID!,$n:Int,$a:String){ announcements(communityId:$c, first:$n, after:$a){ __typename } }`,
		`mutation($p:String!){ requestLoginCode(phone:$p){ __typename } }`,
		`mutation($a:String!,$p:String!){ staffLogin(account:$a,password:$p){ __typename } }`,
	}
	vars := func(v any) []byte { b, _ := json.Marshal(v); return b }
	hx := w.HA.ID
	for _, s := range []struct {
		op, who int
		vars    any
	}{
		{0, 1, map[string]any{"f": map[string]any{"communityId": w.X.ID, "search": "王"}, "n": 5}},
		{0, 1, map[string]any{"f": map[string]any{"search": "\u0000(["}}},
		{1, 1, map[string]any{"i": map[string]any{"buildingId": w.XB1.ID, "unit": "1", "room": "808", "floorArea": 88.5, "moveInDate": "2026-01-15"}}},
		{2, 1, map[string]any{"i": map[string]any{"householdId": hx, "person": map[string]any{"name": "王小明", "phone": "+86 139-0000-0009"}, "role": "FAMILY"}}},
		{3, 1, map[string]any{"p": w.OwnerA.ID, "i": map[string]any{"birthday": map[string]any{"calendar": "LUNAR", "year": 2023, "month": 2, "day": 30, "leapMonth": true}}}},
		{4, 1, map[string]any{"i": map[string]any{"householdId": hx, "visitedAt": "2026-11-22T09:00:00+08:00", "topics": []string{"回访"}, "followUpDue": "2026-11-30"}}},
		{5, 2, map[string]any{"i": map[string]any{"householdId": hx, "date": "2026-11-25", "from": "09:00", "to": "11:30", "lift": "２号梯", "direction": "MOVE_IN"}}},
		{6, 2, map[string]any{"i": map[string]any{"disabledKinds": []string{}, "disabledChannels": []string{}, "quietStart": "9:0", "quietEnd": "08:00"}}},
		{7, 2, map[string]any{"i": map[string]any{"householdId": hx, "category": "WATER", "description": "漏水", "inHome": true, "preferredFrom": "0001-01-01T00:00:00Z"}}},
		{8, 2, map[string]any{"i": map[string]any{"householdId": hx, "itemId": hx, "slot": map[string]any{"date": "2026-11-25", "from": "25:00", "to": "09:00"}, "quantity": -1}}},
		{9, 2, map[string]any{"c": w.X.ID, "n": 1, "a": page64("\xff")}},
		{10, 0, map[string]any{"p": "138 0000 0000"}},
		{11, 0, map[string]any{"a": "admin", "p": ""}},
	} {
		f.Add(uint8(viaJSON+4*s.who)|0x40, uint8(s.op), vars(s.vars))
	}

	f.Fuzz(func(t *testing.T, mode, op uint8, body []byte) {
		via, who := int(mode&3), int(mode>>2&3)%3
		if mode&0x40 != 0 {
			// body is the variables of a real operation.
			via = viaJSON
			body = []byte(`{"query":` + string(vars(ops[int(op)%len(ops)])) + `,"variables":` + string(body) + `}`)
		}
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
