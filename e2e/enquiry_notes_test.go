package e2e

import (
	"slices"
	"strings"
	"testing"

	"qinqing/internal/platform/mongo"
)

// Issue 12: staff notes about a resident on an enquiry follow the care
// archive's rule. The front desk writes them and cannot read them back; the
// household's butler and the community's supervisors read them, each read on
// the archive audit log first; nobody else finds them on any path, and a
// list of N enquiries costs one audit insert.
func TestEnquiryStaffNotesFollowTheArchiveRule(t *testing.T) {
	cc := &collectionCommands{n: map[string]int{}}
	e := startServer(t, mongo.NewTestDB(t, mongo.Options{Monitor: cc.monitor()}))
	w, _ := enqSetup(t, e)
	desk, owner := e.staff(enqDesk, w.Password), e.owner(w.OwnerA.Phone)
	const (
		onRecord   = "独居老人，听力不好"
		onAnswer   = "家庭困难，子女在外地"
		onCallback = "回电时老人情绪低落，建议管家走访"
		noHome     = "访客自述患慢性病"
		onHB       = "行动不便，需上门"
	)
	secrets := []string{onRecord, onAnswer, onCallback, noHome, onHB}

	// The desk takes a call from owner A, answers later and calls back,
	// noting what it heard at each step.
	x := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HA.ID, "askerId": w.OwnerA.ID, "channel": "PHONE", "question": "物业费能减免吗？", "category": "FEES", "staffNotes": onRecord}})
	enqDo(t, desk, `mutation($id:ID!,$a:EnquiryAnswerInput!,$n:String){ answerEnquiry(id:$id, input:$a, staffNotes:$n){ id } }`, "answerEnquiry",
		map[string]any{"id": x.ID, "a": map[string]any{"outcome": "REFERRED", "text": "已转财务部，三个工作日内答复。", "referredTo": "财务部"}, "n": onAnswer})
	// The writer's own response: the callback is recorded, the notes withheld.
	r := desk.do(`mutation($id:ID!,$n:String){ recordEnquiryCallback(id:$id, reached:true, notes:"已电话告知", staffNotes:$n){ callbacks { notes } staffNotes { text } } }`,
		map[string]any{"id": x.ID, "n": onCallback})
	if r.code() != "FORBIDDEN" || !strings.Contains(string(r.Data), "已电话告知") {
		t.Fatalf("the desk's callback: %+v %s", r.Errors, r.Data)
	}
	noLeak(t, "the desk's callback", r, secrets...)
	// One asked by a visitor tied to no household, one for household B.
	anon := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"communityId": w.X.ID, "askerName": "访客", "channel": "DESK", "question": "附近有社区医院吗？", "category": "OTHER", "staffNotes": noHome}})
	hb := enqDo(t, desk, recordQ, "recordEnquiry", map[string]any{"in": map[string]any{
		"householdId": w.HB.ID, "channel": "VISIT", "question": "电梯什么时候修好？", "category": "FACILITIES", "staffNotes": onHB}})
	// A resident cannot write them.
	owner.fails("FORBIDDEN", recordQ, map[string]any{"in": map[string]any{"householdId": w.HA.ID, "question": "问", "category": "OTHER", "staffNotes": "x"}})

	const one = `query($id:ID!){ enquiry(id:$id){ id question answer callbacks { notes } timeline { note } staffNotes { text staff { account } } } }`
	type noteView struct {
		Text  string
		Staff struct{ Account string }
	}
	read := func(c *client, id string) []noteView {
		t.Helper()
		var out struct {
			Enquiry struct{ StaffNotes []noteView }
		}
		c.ok(one, map[string]any{"id": id}, &out)
		return out.Enquiry.StaffNotes
	}
	butler, sup := e.staff(w.butlerX, w.Password), e.staff(w.supervisorX, w.Password)
	for name, c := range map[string]*client{"the household's butler": butler, "the supervisor": sup} {
		got := read(c, x.ID)
		if len(got) != 3 || got[0].Text != onRecord || got[1].Text != onAnswer || got[2].Text != onCallback || got[0].Staff.Account != enqDesk {
			t.Errorf("%s reads %+v", name, got)
		}
	}
	if got := read(sup, anon.ID); len(got) != 1 || got[0].Text != noHome {
		t.Errorf("the supervisor reads the visitor's: %+v", got)
	}
	// No household, no responsible butler: supervisors only.
	butler.fails("FORBIDDEN", one, map[string]any{"id": anon.ID})

	// Everyone else, by every path an enquiry is reached: refused, and the
	// notes appear nowhere in the raw response.
	list := `query($c:ID!){ enquiries(communityId:$c){ edges { node { id staffNotes { text } timeline { note } callbacks { notes } } } } }`
	mine := `{ myEnquiries { edges { node { id answer staffNotes { text } callbacks { notes } } } } }`
	vars := map[string]any{"c": w.X.ID, "id": x.ID}
	for name, c := range map[string]*client{"the front desk": desk, "another desk": e.staff(enqDesk2, w.Password), "another building's butler": e.staff(w.butlerX2, w.Password),
		"an admin": e.staff(w.adminAcct, w.Password), "another community's desk": e.staff(enqDeskY, w.Password),
		"another community's supervisor": e.staff(w.supervisorY, w.Password), "the resident": owner} {
		for path, q := range map[string]string{"enquiry": one, "enquiries": list, "myEnquiries": mine} {
			r := c.do(q, vars)
			refused := r.code() == "FORBIDDEN" || r.code() == "NOT_FOUND" || path == "myEnquiries" && c != owner && len(r.Errors) == 0
			if !refused {
				t.Errorf("%s by %s: %+v %s", name, path, r.Errors, r.Data)
			}
			noLeak(t, name+" by "+path, r, secrets...)
		}
	}
	// The resident still reads their answer and what was said on the call.
	var theirs struct {
		Enquiry struct {
			Answer    string
			Callbacks []struct{ Notes string }
		}
	}
	owner.ok(`query($id:ID!){ enquiry(id:$id){ answer callbacks { notes } } }`, vars, &theirs)
	if theirs.Enquiry.Answer == "" || len(theirs.Enquiry.Callbacks) != 1 || theirs.Enquiry.Callbacks[0].Notes != "已电话告知" {
		t.Errorf("the resident's own enquiry: %+v", theirs)
	}

	// A supervisor's list of the three enquiries with notes: all shown, one
	// audit insert for them.
	cc.of("archive_audit")
	var page struct {
		Enquiries struct {
			Edges []struct {
				Node struct {
					ID         string
					StaffNotes []noteView
				}
			}
		}
	}
	sup.ok(`query($c:ID!){ enquiries(communityId:$c){ edges { node { id staffNotes { text staff { account } } } } } }`, vars, &page)
	if n := len(page.Enquiries.Edges); n != 3 {
		t.Fatalf("%d enquiries listed, want 3", n)
	}
	for _, ed := range page.Enquiries.Edges {
		if len(ed.Node.StaffNotes) == 0 {
			t.Errorf("enquiry %s listed without its notes", ed.Node.ID)
		}
	}
	if got := cc.of("archive_audit"); got["archive_audit"] != 1 {
		t.Errorf("commands on archive_audit for one list = %v, want one insert", got)
	}

	// The audit log holds exactly the allowed reads: butler and supervisor
	// on x, the supervisor on the visitor's, and the list's three.
	var raw struct {
		ArchiveAuditLog struct {
			Edges []struct {
				Node struct {
					Action    string
					Fields    []string
					Staff     struct{ Account string }
					Person    *struct{ ID string }
					Household *struct{ ID string }
				}
			}
		}
	}
	sup.ok(`query($c:ID!){ archiveAuditLog(communityId:$c){ edges { node { action fields staff { account } person { id } household { id } } } } }`, vars, &raw)
	reads := map[string][]string{} // subject -> readers
	for _, ed := range raw.ArchiveAuditLog.Edges {
		n := ed.Node
		if n.Action != "READ" || len(n.Fields) != 2 || n.Fields[0] != "enquiry.staffNotes" {
			t.Errorf("unexpected audit entry %+v", n)
			continue
		}
		reads[n.Fields[1]] = append(reads[n.Fields[1]], n.Staff.Account)
		switch n.Fields[1] {
		case "enquiry:" + x.ID:
			if n.Person == nil || n.Person.ID != w.OwnerA.ID || n.Household == nil || n.Household.ID != w.HA.ID {
				t.Errorf("the read of x names %+v %+v", n.Person, n.Household)
			}
		case "enquiry:" + anon.ID:
			if n.Person != nil || n.Household != nil {
				t.Errorf("the read of the visitor's names %+v %+v", n.Person, n.Household)
			}
		}
	}
	for subject, want := range map[string][]string{
		"enquiry:" + x.ID:    {w.butlerX, w.supervisorX, w.supervisorX},
		"enquiry:" + anon.ID: {w.supervisorX, w.supervisorX},
		"enquiry:" + hb.ID:   {w.supervisorX},
	} {
		got := reads[subject]
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("readers of %s = %v, want %v", subject, got, want)
		}
	}
	if len(reads) != 3 {
		t.Errorf("audited subjects = %v", reads)
	}
}
