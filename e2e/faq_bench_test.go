package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"

	"qinqing/internal/enquiry"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/page"
)

// BenchmarkFAQSearch is a resident's FAQ search over 5,000 entries of one
// community: database round trips per search (one find: the candidates
// come with the page; no count query, no per-entry loads), the request's
// own round trips apart from background jobs that land meanwhile (a
// search takes seconds on the embedded database), allocations and
// the server's share against `{ __typename }` as the bare floor measured in
// the same run. The entries are written straight in batches: building 5,000
// through the API would only time the fixture.
func BenchmarkFAQSearch(b *testing.B) {
	var rt roundTrips
	var faq atomic.Int64
	all := rt.monitor()
	db := mongo.NewTestDB(b, mongo.Options{Monitor: &event.CommandMonitor{Started: func(ctx context.Context, e *event.CommandStartedEvent) {
		if col, _ := e.Command.Index(0).Value().StringValueOK(); col == "faq_entries" {
			faq.Add(1)
		}
		all.Started(ctx, e)
	}}})
	e := startServer(b, db)
	w := e.world()
	ctx := context.Background()
	subjects := []string{"停车证", "门禁卡", "装修申请", "快递", "物业费", "电梯", "游泳池", "垃圾分类", "宠物", "充电桩"}
	verbs := []string{"怎么办理", "在哪里办", "要带什么材料", "多久能好", "收费标准是什么"}
	now := e.Clock.Now()
	const total, batch = 5000, 500
	docs := make([]any, 0, batch)
	for i := range total {
		s, v := subjects[i%len(subjects)], verbs[(i/len(subjects))%len(verbs)]
		q := fmt.Sprintf("%s%s？（%d号楼）", s, v, i/50+1)
		a := fmt.Sprintf("请携带身份证到客户服务中心办理%s相关手续，工作日8:00-18:00，编号%d。", s, i)
		id := mongo.NewID()
		docs = append(docs, &enquiry.FaqEntry{ID: id, CommunityID: w.X.ID, Question: q, Answer: a, Category: enquiry.Other, Tags: []string{},
			Published: true, Grams: enquiry.Grams(q, a), Reads: int64(i % 97), CreatedAt: now, UpdatedAt: now, SortKey: page.NewestFirst(now, id)})
		if len(docs) == batch {
			if _, err := db.Collection("faq_entries").InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	owner := e.owner(w.OwnerA.Phone)
	search := `query($c:ID!,$s:String){ faqEntries(communityId:$c, search:$s, first:20){ edges { node { id question readCount } } } }`
	cases := []struct {
		name, query string
		vars        map[string]any
		want        int
	}{
		{"bare", `{ __typename }`, nil, -1},
		{"search=停车", search, map[string]any{"c": w.X.ID, "s": "停车"}, 20},
		{"search=门禁卡补办", search, map[string]any{"c": w.X.ID, "s": "门禁卡怎么办理"}, 20},
		{"search=absent", search, map[string]any{"c": w.X.ID, "s": "户口迁移"}, 0},
		{"browse", search, map[string]any{"c": w.X.ID}, 20},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var got struct {
				FaqEntries struct{ Edges []struct{} }
			}
			owner.ok(tc.query, tc.vars, &got)
			if tc.want >= 0 && len(got.FaqEntries.Edges) != tc.want {
				b.Fatalf("%d entries, want %d", len(got.FaqEntries.Edges), tc.want)
			}
			rt.n.Store(0)
			rt.request.Store(0)
			faq.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				owner.ok(tc.query, tc.vars, nil)
			}
			b.ReportMetric(float64(rt.n.Load())/float64(b.N), "db-roundtrips/op")
			b.ReportMetric(float64(rt.request.Load())/float64(b.N), "request-roundtrips/op")
			b.ReportMetric(float64(faq.Load())/float64(b.N), "faq-roundtrips/op")
		})
	}
}
