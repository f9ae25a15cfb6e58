package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/wechat"
)

// WeChat subscribe messages (订阅消息) for mini-program users.
//
// Messages for this industry are one-time grants: every time a user accepts a
// template in the mini program, one message of that template may be sent.
// The mini program reports what was accepted (RecordSubscription); each grant
// is one document in wechat_grants, so spending one is deleting one. The
// outbox hands batches over most important first, and Send sorts them again,
// so when grants are scarce a repair progress notice gets one before a
// greeting. A delivery without a grant is UNDELIVERABLE: the message is still
// in the inbox.
//
// Spending is exactly-once even on FerretDB, whose findOneAndDelete reads and
// then deletes: a sender first inserts the claim {_id: "spent:"+grantId} into
// wechat_grant_spends (unique by _id), and only the sender whose insert
// succeeded uses the grant; the grant document is deleted afterwards by the
// winner, or by anybody who later finds it already claimed.

const (
	colWechatGrants   = "wechat_grants"
	colWechatSpends   = "wechat_grant_spends"
	colWechatBindings = "wechat_bindings" // owned by identity: _id = openid, personId

	// WechatMaxGrants caps the grants kept per user and template, so a
	// misbehaving client cannot grow the collection without bound. WeChat's
	// own count is the truth anyway: 43101 clears ours.
	WechatMaxGrants = 50
	// wechatMaxReport caps template ids per recordWechatSubscription
	// (wx.requestSubscribeMessage asks for at most 3 at a time).
	wechatMaxReport = 20
	// wechatThingMax is the length limit of a "thing" value, in characters.
	wechatThingMax = 20
	// wechatParallel is how many subscribe messages are in flight at once.
	wechatParallel = 8
	// wechatClaimRounds bounds how often Send looks for another grant after
	// losing one to a concurrent sender.
	wechatClaimRounds = 4
)

func init() {
	mongo.Declare(
		mongo.Indexes{Collection: colWechatGrants, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "userId", Value: 1}, {Key: "templateId", Value: 1}, {Key: "createdAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: colWechatSpends, Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "at", Value: 1}}},
		}},
	)
	apperr.Register(map[string]apperr.Text{
		"notify.wechat_unknown_template": {ZH: "包含未配置的订阅消息模板：%v", EN: "contains a template that is not configured: %v"},
		"notify.wechat_report_mismatch":  {ZH: "模板与是否同意的数量不一致", EN: "must have as many entries as accepted"},
	})
}

// ErrWechatReportMismatch is for the API layer, when the mutation takes
// templateIds and accepted as two lists of different lengths.
var ErrWechatReportMismatch = apperr.Invalid("accepted", "notify.wechat_report_mismatch")

// WechatConfig configures the WeChat channel.
type WechatConfig struct {
	// Templates maps a kind to its subscribe-message template id (from the
	// mini program's admin console). Kinds without one are UNDELIVERABLE on
	// this channel. Each template must have the keywords thing1 (the title)
	// and thing2 (the body).
	Templates map[Kind]string
	// Page is the mini-program page a message opens ("" = none);
	// "notificationId=<id>" is added to its query.
	Page string
	// Now is the clock for grant timestamps; nil means time.Now.
	Now func() time.Time
}

type wechatGrant struct {
	ID         string    `bson:"_id"`
	UserID     string    `bson:"userId"`
	TemplateID string    `bson:"templateId"`
	CreatedAt  time.Time `bson:"createdAt"`
}

// WechatGrants keeps one-time subscribe-message grants per user and template.
// It works without WeChat credentials, so the mini program's reports are
// kept even while the channel is off.
type WechatGrants struct {
	grants, spends *mgo.Collection
	known          map[string]bool // configured template ids
	now            func() time.Time
}

// NewWechatGrants opens the grant store for the configured templates.
func NewWechatGrants(db *mongo.DB, cfg WechatConfig) *WechatGrants {
	g := &WechatGrants{grants: db.Collection(colWechatGrants), spends: db.Collection(colWechatSpends), known: map[string]bool{}, now: cfg.Now}
	for _, id := range cfg.Templates {
		if id != "" {
			g.known[id] = true
		}
	}
	if g.now == nil {
		g.now = time.Now
	}
	return g
}

// RecordSubscription stores what the mini program reports after
// wx.requestSubscribeMessage: templateId → accepted. Each accepted template
// is one grant; a rejected one adds nothing (grants accepted earlier stay
// valid at WeChat and stay here). Only configured template ids are accepted;
// anything else is BAD_USER_INPUT on field "templateIds" and nothing is
// stored. Only people (mini-program users) have grants.
func (g *WechatGrants) RecordSubscription(ctx context.Context, c *access.Caller, results map[string]bool) error {
	if c == nil {
		return apperr.ErrUnauthenticated
	}
	if c.Kind != auth.KindPerson {
		return apperr.ErrForbidden
	}
	if len(results) > wechatMaxReport {
		return apperr.Invalid("templateIds", "input.too_many", wechatMaxReport)
	}
	var accepted []string
	for id, ok := range results {
		if !g.known[id] {
			return apperr.Invalid("templateIds", "notify.wechat_unknown_template", truncateRunes(id, 64))
		}
		if ok {
			accepted = append(accepted, id)
		}
	}
	sort.Strings(accepted)
	now := g.now().UTC()
	var docs []any
	for _, id := range accepted {
		n, err := g.grants.CountDocuments(ctx, bson.D{{Key: "userId", Value: c.ID}, {Key: "templateId", Value: id}})
		if err != nil {
			return fmt.Errorf("count wechat grants: %w", err)
		}
		if n >= WechatMaxGrants {
			continue
		}
		docs = append(docs, wechatGrant{ID: mongo.NewID(), UserID: c.ID, TemplateID: id, CreatedAt: now})
	}
	if len(docs) == 0 {
		return nil
	}
	if _, err := g.grants.InsertMany(ctx, docs); err != nil {
		return fmt.Errorf("record wechat grants: %w", err)
	}
	return nil
}

// Grants counts a user's unspent grants per template id.
func (g *WechatGrants) Grants(ctx context.Context, userID string) (map[string]int, error) {
	cur, err := g.grants.Find(ctx, bson.D{{Key: "userId", Value: userID}}, options.Find().SetProjection(bson.D{{Key: "templateId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wechat grants: %w", err)
	}
	var list []wechatGrant
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("wechat grants: %w", err)
	}
	out := map[string]int{}
	for _, gr := range list {
		out[gr.TemplateID]++
	}
	return out, nil
}

// Holders reports, for each of ids, the templates they hold an unspent grant
// for: one query for a batch.
func (g *WechatGrants) Holders(ctx context.Context, ids []string) (map[string]map[string]bool, error) {
	cur, err := g.grants.Find(ctx, bson.D{{Key: "userId", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "userId", Value: 1}, {Key: "templateId", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wechat grant holders: %w", err)
	}
	var list []wechatGrant
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("wechat grant holders: %w", err)
	}
	out := make(map[string]map[string]bool, len(list))
	for _, gr := range list {
		if out[gr.UserID] == nil {
			out[gr.UserID] = map[string]bool{}
		}
		out[gr.UserID][gr.TemplateID] = true
	}
	return out, nil
}

// SweepSpends deletes spend claims older than before, first deleting any
// grant still left behind one of them (a sender that died between claiming
// and deleting), so a swept claim can never make its grant spendable again.
// Run it from a daily job; the claims are otherwise only a few bytes each.
func (g *WechatGrants) SweepSpends(ctx context.Context, before time.Time) error {
	cur, err := g.spends.Find(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before}}}}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(10000))
	if err != nil {
		return fmt.Errorf("old wechat spends: %w", err)
	}
	var list []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return fmt.Errorf("old wechat spends: %w", err)
	}
	if len(list) == 0 {
		return nil
	}
	ids, grantIDs := make([]string, len(list)), make([]string, len(list))
	for i, s := range list {
		ids[i], grantIDs[i] = s.ID, strings.TrimPrefix(s.ID, "spent:")
	}
	if _, err := g.grants.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: grantIDs}}}}); err != nil {
		return fmt.Errorf("delete spent wechat grants: %w", err)
	}
	if _, err := g.spends.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("delete old wechat spends: %w", err)
	}
	return nil
}

// Wechat is the subscribe-message channel.
type Wechat struct {
	*WechatGrants
	tokens    *wechat.AccessTokens
	bindings  *mgo.Collection
	templates map[Kind]string
	page      string
	log       *slog.Logger
}

// NewWechat builds the channel. tokens nil means a token cache of its own
// for client.
func NewWechat(client *wechat.Client, tokens *wechat.AccessTokens, db *mongo.DB, cfg WechatConfig, log *slog.Logger) *Wechat {
	if tokens == nil {
		tokens = wechat.NewAccessTokens(client, nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tpl := make(map[Kind]string, len(cfg.Templates))
	for k, v := range cfg.Templates {
		if v != "" {
			tpl[k] = v
		}
	}
	return &Wechat{WechatGrants: NewWechatGrants(db, cfg), tokens: tokens, bindings: db.Collection(colWechatBindings),
		templates: tpl, page: cfg.Page, log: log}
}

// Channel is ChannelWechat.
func (w *Wechat) Channel() string { return ChannelWechat }

// Result errors of the WeChat channel.
const (
	wechatNoMiniProgram = "no mini program"
	wechatNoTemplate    = "no template"
	wechatNoGrant       = "no subscription grant; inbox only"
)

type grantKey struct{ user, template string }

// wechatJob is one delivery that may be sent.
type wechatJob struct {
	idx    int // into the batch
	openid string
	key    grantKey
	grant  *wechatGrant // the grant spent on it
}

// Send delivers a batch, most important first: each delivery spends one of
// its recipient's grants for the kind's template, then goes out as a
// subscribe message. Outcomes: SENT; UNDELIVERABLE without a mini-program
// binding, a template, or a grant (43101 included, which also drops the
// user's remaining grants for the template), or for an openid WeChat does not
// know; RETRY when WeChat is unavailable (the grant is put back, and the rest
// of the batch is not tried); FAILED for any other WeChat error (grant put
// back: WeChat did not use it).
func (w *Wechat) Send(ctx context.Context, batch []Outgoing) []Result {
	results := make([]Result, len(batch))
	if len(batch) == 0 {
		return results
	}
	order := make([]int, len(batch))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return batch[order[a]].Priority > batch[order[b]].Priority })

	retryAll := func(idxs []int, err error) {
		for _, i := range idxs {
			results[i] = Result{DeliveryID: batch[i].DeliveryID, Status: StatusRetry, Error: err.Error()}
		}
	}

	var people []string
	seen := map[string]bool{}
	for _, o := range batch {
		if (o.RecipientKind == "" || o.RecipientKind == auth.KindPerson) && !seen[o.RecipientID] {
			seen[o.RecipientID] = true
			people = append(people, o.RecipientID)
		}
	}
	openids, err := w.openIDs(ctx, people)
	if err != nil {
		w.log.WarnContext(ctx, "wechat: load bindings", "err", err)
		retryAll(order, err)
		return results
	}

	var jobs []*wechatJob // in priority order
	for _, i := range order {
		o := batch[i]
		tpl := w.templates[o.Kind]
		openid := ""
		if o.RecipientKind == "" || o.RecipientKind == auth.KindPerson {
			openid = openids[o.RecipientID]
		}
		switch {
		case openid == "":
			results[i] = Result{DeliveryID: o.DeliveryID, Status: StatusUndeliverable, Error: wechatNoMiniProgram}
		case tpl == "":
			results[i] = Result{DeliveryID: o.DeliveryID, Status: StatusUndeliverable, Error: wechatNoTemplate}
		default:
			jobs = append(jobs, &wechatJob{idx: i, openid: openid, key: grantKey{o.RecipientID, tpl}})
		}
	}
	if len(jobs) == 0 {
		return results
	}

	funded, unfunded, err := w.spend(ctx, jobs)
	if err != nil {
		w.log.WarnContext(ctx, "wechat: spend grants", "err", err)
		var idxs []int
		for _, j := range jobs {
			if j.grant == nil {
				idxs = append(idxs, j.idx)
			}
		}
		retryAll(idxs, err)
	} else {
		for _, j := range unfunded {
			results[j.idx] = Result{DeliveryID: batch[j.idx].DeliveryID, Status: StatusUndeliverable, Error: wechatNoGrant}
		}
	}
	if len(funded) == 0 {
		return results
	}

	// Grants won in a later claim round come after earlier ones: send in
	// priority order all the same.
	sort.SliceStable(funded, func(a, b int) bool { return batch[funded[a].idx].Priority > batch[funded[b].idx].Priority })
	started := w.now().UTC()
	errs := w.sendAll(ctx, batch, funded)

	var restore []wechatGrant
	exhausted := map[grantKey]bool{}
	for n, j := range funded {
		o, err := batch[j.idx], errs[n]
		r := Result{DeliveryID: o.DeliveryID}
		switch {
		case err == nil:
			r.Status = StatusSent
		case errors.Is(err, wechat.ErrNoGrant):
			r.Status, r.Error = StatusUndeliverable, wechatNoGrant+" (43101)"
			exhausted[j.key] = true
		case errors.Is(err, wechat.ErrBadOpenID):
			r.Status, r.Error = StatusUndeliverable, "wechat: invalid openid"
		case errors.Is(err, wechat.ErrUnavailable) || ctx.Err() != nil:
			r.Status, r.Error = StatusRetry, err.Error()
			restore = append(restore, *j.grant)
		default:
			r.Status, r.Error = StatusFailed, err.Error()
			restore = append(restore, *j.grant)
		}
		results[j.idx] = r
	}

	bg := context.WithoutCancel(ctx)
	// 43101: WeChat has no grant left for the user and template, whatever we
	// counted; grants recorded after the send started are newer than that
	// answer and are kept.
	for k := range exhausted {
		_, err := w.grants.DeleteMany(bg, bson.D{{Key: "userId", Value: k.user}, {Key: "templateId", Value: k.template},
			{Key: "createdAt", Value: bson.D{{Key: "$lte", Value: started}}}})
		if err != nil {
			w.log.WarnContext(ctx, "wechat: drop exhausted grants", "user", k.user, "template", k.template, "err", err)
		}
	}
	var docs []any
	for _, g := range restore {
		if exhausted[grantKey{g.UserID, g.TemplateID}] {
			continue
		}
		g.ID = mongo.NewID() // a new grant: the old id stays spent
		docs = append(docs, g)
	}
	if len(docs) > 0 {
		if _, err := w.grants.InsertMany(bg, docs); err != nil {
			w.log.WarnContext(ctx, "wechat: put grants back", "grants", len(docs), "err", err)
		}
	}
	return results
}

// openIDs maps people to their openid, in one query. A person bound from
// two WeChat accounts is reached on the one bound last.
func (w *Wechat) openIDs(ctx context.Context, people []string) (map[string]string, error) {
	out := make(map[string]string, len(people))
	if len(people) == 0 {
		return out, nil
	}
	cur, err := w.bindings.Find(ctx, bson.D{{Key: "personId", Value: bson.D{{Key: "$in", Value: people}}}},
		options.Find().SetProjection(bson.D{{Key: "personId", Value: 1}, {Key: "boundAt", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wechat bindings: %w", err)
	}
	var list []struct {
		OpenID   string    `bson:"_id"`
		PersonID string    `bson:"personId"`
		BoundAt  time.Time `bson:"boundAt"`
	}
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("wechat bindings: %w", err)
	}
	sort.SliceStable(list, func(a, b int) bool { return list[a].BoundAt.Before(list[b].BoundAt) })
	for _, b := range list {
		out[b.PersonID] = b.OpenID
	}
	return out, nil
}

// spend gives each job (in priority order) one grant of its user and
// template, claiming it exactly once. It returns the jobs that got one and
// those for which none was left. On an error, jobs without a grant are
// neither (the caller retries them).
func (w *Wechat) spend(ctx context.Context, jobs []*wechatJob) (funded, unfunded []*wechatJob, err error) {
	owner := fmt.Sprintf("s%016x", rand.Uint64()) // this call's claims
	tried := map[string]bool{}
	pending := jobs
	for round := 0; len(pending) > 0; round++ {
		if round == wechatClaimRounds {
			return funded, unfunded, errors.New("wechat: grants contended; try again")
		}
		pool, err := w.available(ctx, pending, tried)
		if err != nil {
			return funded, unfunded, err
		}
		var try []*wechatJob
		for _, j := range pending {
			if len(pool[j.key]) == 0 {
				unfunded = append(unfunded, j)
				continue
			}
			g := pool[j.key][0]
			pool[j.key] = pool[j.key][1:]
			tried[g.ID] = true
			j.grant = &g
			try = append(try, j)
		}
		if len(try) == 0 {
			break
		}
		won, lost, err := w.claim(ctx, owner, try)
		if err != nil {
			for _, j := range try {
				j.grant = nil
			}
			return funded, unfunded, err
		}
		var gone []string
		for _, j := range lost {
			gone = append(gone, j.grant.ID) // claimed by another sender: spent either way
		}
		// The grants won go to the most important jobs of their user and
		// template, even if a less important one's claim is what succeeded.
		wonBy := map[grantKey][]*wechatGrant{}
		for _, j := range won {
			gone = append(gone, j.grant.ID)
			wonBy[j.key] = append(wonBy[j.key], j.grant)
		}
		won, lost = nil, nil
		for _, j := range try {
			if gs := wonBy[j.key]; len(gs) > 0 {
				j.grant, wonBy[j.key] = gs[0], gs[1:]
				won = append(won, j)
			} else {
				j.grant = nil
				lost = append(lost, j)
			}
		}
		if _, err := w.grants.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: gone}}}}); err != nil {
			// The claims already make these grants unusable; whoever meets
			// one later deletes it.
			w.log.WarnContext(ctx, "wechat: delete spent grants", "err", err)
		}
		funded = append(funded, won...)
		pending = lost
	}
	return funded, unfunded, nil
}

// available loads the unspent grants of the jobs' users and templates
// (oldest first), leaving out the ones already tried.
func (w *Wechat) available(ctx context.Context, jobs []*wechatJob, tried map[string]bool) (map[grantKey][]wechatGrant, error) {
	var users, tpls []string
	su, st := map[string]bool{}, map[string]bool{}
	for _, j := range jobs {
		if !su[j.key.user] {
			su[j.key.user] = true
			users = append(users, j.key.user)
		}
		if !st[j.key.template] {
			st[j.key.template] = true
			tpls = append(tpls, j.key.template)
		}
	}
	cur, err := w.grants.Find(ctx, bson.D{
		{Key: "userId", Value: bson.D{{Key: "$in", Value: users}}},
		{Key: "templateId", Value: bson.D{{Key: "$in", Value: tpls}}},
	}, options.Find().SetSort(bson.D{{Key: "createdAt", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("wechat grants of recipients: %w", err)
	}
	var list []wechatGrant
	if err := cur.All(ctx, &list); err != nil {
		return nil, fmt.Errorf("wechat grants of recipients: %w", err)
	}
	pool := map[grantKey][]wechatGrant{}
	for _, g := range list {
		if !tried[g.ID] {
			k := grantKey{g.UserID, g.TemplateID}
			pool[k] = append(pool[k], g)
		}
	}
	return pool, nil
}

// claim inserts one spend claim per job in one unordered batch; the inserts
// that succeed are this sender's grants. After an error that leaves the
// outcome unknown, this call's own claims are taken back.
func (w *Wechat) claim(ctx context.Context, owner string, jobs []*wechatJob) (won, lost []*wechatJob, err error) {
	docs := make([]any, len(jobs))
	ids := make([]string, len(jobs))
	now := w.now().UTC()
	for i, j := range jobs {
		ids[i] = "spent:" + j.grant.ID
		docs[i] = bson.D{{Key: "_id", Value: ids[i]}, {Key: "owner", Value: owner}, {Key: "at", Value: now}}
	}
	taken := map[int]bool{}
	if _, err := w.spends.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false)); err != nil {
		var bwe mgo.BulkWriteException
		ok := asBulk(err, &bwe) && bwe.WriteConcernError == nil
		if ok {
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 {
					ok = false
					break
				}
				taken[we.Index] = true
			}
		}
		if !ok {
			if _, uerr := w.spends.DeleteMany(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}, {Key: "owner", Value: owner}}); uerr != nil {
				w.log.WarnContext(ctx, "wechat: take back grant claims", "err", uerr)
			}
			return nil, nil, fmt.Errorf("claim wechat grants: %w", err)
		}
	}
	for i, j := range jobs {
		if taken[i] {
			lost = append(lost, j)
		} else {
			won = append(won, j)
		}
	}
	return won, lost, nil
}

// sendAll sends the funded jobs, a few at a time, in priority order. Once
// WeChat is unavailable the rest are not tried (they come back as RETRY).
func (w *Wechat) sendAll(ctx context.Context, batch []Outgoing, jobs []*wechatJob) []error {
	errs := make([]error, len(jobs))
	next := make(chan int)
	var (
		mu   sync.Mutex
		down error
		wg   sync.WaitGroup
	)
	for range min(wechatParallel, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				mu.Lock()
				d := down
				mu.Unlock()
				if d == nil {
					d = ctx.Err()
				}
				if d != nil {
					errs[n] = fmt.Errorf("%w: not tried: %v", wechat.ErrUnavailable, d)
					continue
				}
				j := jobs[n]
				o := batch[j.idx]
				err := w.tokens.SendSubscribe(ctx, j.openid, j.key.template, w.pageFor(o), wechatData(o))
				if errors.Is(err, wechat.ErrUnavailable) {
					mu.Lock()
					if down == nil {
						down = err
					}
					mu.Unlock()
					w.log.WarnContext(ctx, "wechat: unavailable", "delivery", o.DeliveryID, "err", err)
				}
				errs[n] = err
			}
		}()
	}
	for n := range jobs {
		next <- n
	}
	close(next)
	wg.Wait()
	return errs
}

func (w *Wechat) pageFor(o Outgoing) string {
	if w.page == "" {
		return ""
	}
	sep := "?"
	if strings.Contains(w.page, "?") {
		sep = "&"
	}
	q := w.page + sep + "notificationId=" + url.QueryEscape(o.NotificationID)
	// The same kind, subject, sequence and time as the inbox entry and the
	// app push: the template's keywords have no room for them.
	for _, k := range []string{DataKind, DataSubject, DataSeq, DataEventAt} {
		if v := o.Data[k]; v != "" {
			q += "&" + k + "=" + url.QueryEscape(v)
		}
	}
	return q
}

// wechatData fills the template's keywords: thing1 is the title, thing2 the
// body, each cut to WeChat's 20 characters.
func wechatData(o Outgoing) map[string]string {
	return map[string]string{"thing1": wechatThing(o.Title), "thing2": wechatThing(o.Body)}
}

// wechatThing makes a valid "thing" value: one line, at most 20
// characters (an ellipsis marks a cut), never empty (WeChat refuses that).
func wechatThing(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	r := []rune(s)
	if len(r) <= wechatThingMax {
		return s
	}
	return string(r[:wechatThingMax-1]) + "…"
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
