package e2e

import (
	"fmt"
	"testing"

	"qinqing/internal/platform/mongo"
)

// A page of incidents loads the announcements and repairs they link in one
// query each, whatever the page's size.
func TestIncidentPageLoadsLinksInOneBatch(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db)
	w := e.world()
	sup := e.staff(w.supervisorX, w.Password)
	for i := range 5 {
		var r struct{ ReportIncident struct{ ID string } }
		sup.ok(`mutation($in:ReportIncidentInput!){ reportIncident(input:$in){ id } }`, map[string]any{"in": map[string]any{
			"communityId": w.X.ID, "type": "WATER_LEAK", "occurredAt": e.Clock.Now(), "buildingIds": []string{w.XB1.ID},
			"location": "1栋", "description": "走廊漏水", "idempotencyKey": fmt.Sprintf("sup-phone-%04d", i)}}, &r)
		id := r.ReportIncident.ID
		sup.ok(`mutation($id:ID!,$in:PublishIncidentAnnouncementInput!){ publishIncidentAnnouncement(id:$id,input:$in){ id } }`,
			map[string]any{"id": id, "in": map[string]any{"title": "1栋紧急停水通知", "body": "正在抢修，请暂勿用水。"}}, nil)
		sup.ok(`mutation($id:ID!,$in:FileIncidentRepairInput!){ fileIncidentRepair(id:$id,input:$in){ id } }`, map[string]any{"id": id, "in": map[string]any{
			"publicArea": map[string]any{"buildingId": w.XB1.ID, "floor": 3, "kind": "CORRIDOR", "place": fmt.Sprintf("1栋%d楼走廊", i+1)},
			"category":   "WATER", "description": "走廊吊顶内水管爆裂", "urgency": "EMERGENCY"}}, nil)
	}
	const q = `query($c:ID!,$n:Int!){ incidents(communityId:$c, first:$n){ edges { node { id announcement { id title } repairRequest { id } } } } }`
	cost := func(n int) int64 {
		best := int64(-1)
		for range 3 { // a background job may add a command to one try, never take one away
			var got struct {
				Incidents struct {
					Edges []struct {
						Node struct {
							Announcement  *struct{ ID string }
							RepairRequest *struct{ ID string }
						}
					}
				}
			}
			rt.n.Store(0)
			sup.ok(q, map[string]any{"c": w.X.ID, "n": n}, &got)
			trips := rt.n.Load()
			if len(got.Incidents.Edges) != n {
				t.Fatalf("%d incidents on a page of %d", len(got.Incidents.Edges), n)
			}
			for _, x := range got.Incidents.Edges {
				if x.Node.Announcement == nil || x.Node.RepairRequest == nil {
					t.Fatalf("links missing: %+v", got)
				}
			}
			if best < 0 || trips < best {
				best = trips
			}
		}
		return best
	}
	few, many := cost(2), cost(5)
	t.Logf("incidents with their announcement and repair: %d round trips for 2, %d for 5", few, many)
	if few != many {
		t.Errorf("%d round trips for 2 incidents, %d for 5", few, many)
	}
}
