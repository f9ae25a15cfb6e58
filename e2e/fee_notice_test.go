package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/household"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// billNotices counts c's FEE_BILL_ISSUED entries whose title names period.
func billNotices(c *client, period string) int {
	n := 0
	for _, ed := range c.inbox().Notifications.Edges {
		if ed.Node.Kind == "FEE_BILL_ISSUED" && strings.Contains(ed.Node.Title, period) {
			n++
		}
	}
	return n
}

// The bill notice (FEE_BILL_ISSUED): each owner is told once, with the
// period, the amount and the due date (by SMS when she has no app);
// billing again tells nobody again; an owner who turned the kind off gets
// no message (the inbox keeps the entry, as for every optional kind); a
// tenant only once the owners let tenants see the bills. And what telling
// costs: the request's database round trips are the same for 3 households
// as for 9, one batch of recipients and one engine batch per billing batch.
func TestBillIssuedNotices(t *testing.T) {
	var rt roundTrips
	db := mongo.NewTestDB(t, mongo.Options{Monitor: rt.monitor()})
	e := startServer(t, db)
	w := e.world()
	ctx := context.Background()
	sup := e.staff(w.supervisorX, w.Password)
	sup.ok(feeItemQ, map[string]any{"c": w.X.ID, "in": map[string]any{"code": "OTHER", "kind": "OTHER", "name": "垃圾清运费", "rate": 1500, "effectiveFrom": "2026-01"}}, nil)
	ownerA, ownerB := e.owner(w.OwnerA.Phone), e.owner(w.OwnerB.Phone)
	ownerA.ok(`mutation($in:NotificationPreferencesInput!){ updateNotificationPreferences(input:$in){ disabledKinds } }`,
		map[string]any{"in": map[string]any{"disabledKinds": []string{"FEE_BILL_ISSUED"}, "disabledChannels": []string{}, "quietStart": "21:30", "quietEnd": "08:00"}}, nil)
	if _, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: w.HA.ID,
		Person: &household.PersonInput{Name: "租客", Phone: "13900000099"}, Role: access.Tenant}); err != nil {
		t.Fatal(err)
	}
	tenant := e.owner("13900000099")

	rt.request.Store(0)
	if g := genBills(sup, w.X.ID, "2026-10"); g.Created != 3 {
		t.Fatalf("billing %+v", g)
	}
	three := rt.request.Load()
	waitFor(t, "owner B's SMS", func() bool {
		for _, m := range e.SMS.texts(w.OwnerB.Phone) {
			if strings.Contains(m, "2026-10 物业费账单") && strings.Contains(m, "应缴 15.00 元") && strings.Contains(m, "2026-11-30") {
				return true
			}
		}
		return false
	})
	if n := billNotices(ownerB, "2026-10"); n != 1 {
		t.Fatalf("owner B has %d notices", n)
	}
	if n := billNotices(ownerA, "2026-10"); n != 1 {
		t.Fatalf("owner A's inbox has %d entries", n)
	}
	var dels []notify.Delivery
	cur, err := e.DB.Collection("deliveries").Find(ctx, bson.D{{Key: "recipientId", Value: w.OwnerA.ID}, {Key: "kind", Value: notify.FeeBillIssued}})
	if err != nil || cur.All(ctx, &dels) != nil || len(dels) == 0 {
		t.Fatalf("owner A's deliveries: %v", err)
	}
	for _, d := range dels {
		if d.Status != notify.StatusSuppressed {
			t.Fatalf("owner A turned the notice off, yet its %s delivery is %s", d.Channel, d.Status)
		}
	}
	for _, m := range e.SMS.texts(w.OwnerA.Phone) {
		if strings.Contains(m, "物业费账单") {
			t.Fatalf("owner A turned the notice off, yet got %q", m)
		}
	}
	if n := billNotices(tenant, "2026-10"); n != 0 {
		t.Fatalf("a tenant without access was told: %d", n)
	}

	if g := genBills(sup, w.X.ID, "2026-10"); g.Created != 0 {
		t.Fatalf("billing again %+v", g)
	}
	if n, err := e.DB.Collection("notifications").CountDocuments(ctx, bson.D{{Key: "kind", Value: notify.FeeBillIssued}}); err != nil || n != 3 {
		t.Fatalf("after billing twice: %d notices (owners A, B and HC's), %v", n, err)
	}

	// Six more households with owners: the same round trips for nine.
	for i := range 6 {
		h, err := e.App.Services.Households.Create(ctx, w.admin, household.CreateInput{BuildingID: w.XB2.ID, Unit: w.XB2.Units[0], Room: fmt.Sprintf("30%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.App.Services.Households.AddMember(ctx, w.admin, household.AddMemberInput{HouseholdID: h.ID,
			Person: &household.PersonInput{Name: fmt.Sprintf("业主%d", i), Phone: fmt.Sprintf("1390000020%d", i)}, Role: access.Owner}); err != nil {
			t.Fatal(err)
		}
	}
	rt.request.Store(0)
	if g := genBills(sup, w.X.ID, "2026-11"); g.Created != 9 {
		t.Fatalf("billing nine %+v", g)
	}
	nine := rt.request.Load()
	t.Logf("round trips of generateBills with notices: 3 households %d, 9 households %d", three, nine)
	if nine != three {
		t.Fatalf("round trips grow with the households: %d for 3, %d for 9", three, nine)
	}

	// Tenants allowed: HA's tenant hears of the next period. Owner B's
	// live inbox hears of it too: the batch's one event names its entries.
	ownerA.ok(`mutation($h:ID!){ setTenantBillAccess(householdId:$h, allowed:true) }`, map[string]any{"h": w.HA.ID}, nil)
	ws := dialRaw(t, e).ack(ownerB.token)
	ws.subscribe("n", `subscription{ notificationReceived{ kind title } }`, nil)
	pokes := 0
	ws.liveBy("n", func() {
		pokes++
		_, err := e.App.Services.Notify.Send(ctx, notify.Message{Kind: notify.Announcement, Key: fmt.Sprintf("bill-notice-probe-%d", pokes),
			Recipients: []notify.Recipient{{Kind: auth.KindPerson, ID: w.OwnerB.ID, CommunityID: w.X.ID}}, Vars: map[string]any{"title": "试", "text": "试"}})
		if err != nil {
			t.Fatal(err)
		}
	})
	genBills(sup, w.X.ID, "2026-12")
	if m := ws.next(20 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), "FEE_BILL_ISSUED") || !strings.Contains(string(m.Payload), "2026-12") {
		t.Fatalf("owner B's live inbox: %+v %s", m, m.Payload)
	}
	if n := billNotices(tenant, "2026-12"); n != 1 {
		t.Fatalf("the allowed tenant has %d notices", n)
	}

	if n, err := e.DB.Collection("notifications").CountDocuments(ctx, bson.D{{Key: "kind", Value: notify.FeeBillIssued}, {Key: "key", Value: bson.D{{Key: "$regex", Value: "2026-12:issued$"}}}}); err != nil || n != 10 {
		t.Fatalf("2026-12 notices: %d (nine owners and HA's tenant), %v", n, err)
	}
}
