package greeting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/festival"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

const (
	// BirthdaySendTime is when birthday greetings go out, community time.
	BirthdaySendTime = "09:00"
	// StaleAfter is how long an unfinished run may go without a heartbeat
	// before another process takes it over (its process died mid-fan-out).
	StaleAfter = 10 * time.Minute
	// heartbeatEvery is how often a long fan-out proves it is alive.
	heartbeatEvery = time.Minute
	// sweepLimit bounds the abandoned runs one Tick takes over.
	sweepLimit = 10
)

// Run kinds.
const (
	runFestival = "festival"
	runBirthday = "birthday"
	runCampaign = "campaign"
)

// run is one scheduled fan-out. Its _id makes it start once: the process
// whose insert wins fans out; the others skip it, or take it over when its
// heartbeat is older than StaleAfter and it never finished.
type run struct {
	ID          string     `bson:"_id"`
	Kind        string     `bson:"kind"`
	CommunityID string     `bson:"communityId"`
	FestivalKey string     `bson:"festivalKey,omitempty"`
	Date        string     `bson:"date,omitempty"` // YYYY-MM-DD, community time
	CampaignID  string     `bson:"campaignId,omitempty"`
	StartedAt   time.Time  `bson:"startedAt"`
	HeartbeatAt time.Time  `bson:"heartbeatAt"`
	FinishedAt  *time.Time `bson:"finishedAt,omitempty"`
	Owner       string     `bson:"owner"`
	Attempts    int        `bson:"attempts"`
	Recipients  int        `bson:"recipients"`
}

func festivalRunID(communityID, key, date string) string {
	return "festival:" + communityID + ":" + key + ":" + date
}

// Tick sends what is due at now: for every community, each enabled festival
// falling today (community time) whose send time has passed, and today's
// birthday greetings from BirthdaySendTime; and it finishes runs whose
// process died. Every server process calls it every minute; each fan-out
// happens once. A Tick still running when the next is called makes that
// one return at once.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	if !s.tickMu.TryLock() {
		return nil
	}
	defer s.tickMu.Unlock()
	var errs []error
	if err := s.sweep(ctx, now); err != nil {
		errs = append(errs, err)
	}
	cs, err := s.communities.List(ctx, system)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, c := range cs {
		if err := s.tickCommunity(ctx, now, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("greetings of community %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) tickCommunity(ctx context.Context, now time.Time, communityID string) error {
	loc := s.zones(communityID)
	local := now.In(loc)
	date := local.Format(time.DateOnly)
	var errs []error
	at, _ := time.ParseInLocation(time.DateOnly+" 15:04", date+" "+BirthdaySendTime, loc)
	if !local.Before(at) {
		r := run{ID: "birthday:" + communityID + ":" + date, Kind: runBirthday, CommunityID: communityID, Date: date}
		errs = append(errs, s.fire(ctx, now, r))
	}
	fs, err := s.festivals(ctx, communityID)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	occ, err := festival.CalendarFor(local.Year(), loc, fs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, o := range occ {
		if o.Date.Format(time.DateOnly) != date || now.Before(o.SendAt) {
			continue
		}
		r := run{ID: festivalRunID(communityID, o.Festival.Key, date), Kind: runFestival, CommunityID: communityID, FestivalKey: o.Festival.Key, Date: date}
		errs = append(errs, s.fire(ctx, now, r))
	}
	return errors.Join(errs...)
}

func (s *Service) isDone(id string) bool {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	return s.done[id]
}

func (s *Service) markDone(id string) {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	if len(s.done) > 10000 { // ids carry dates: old ones are never asked again
		clear(s.done)
	}
	s.done[id] = true
}

// fire starts r unless it started already: the insert of its run document
// decides. A duplicate that finished is skipped; one that is unfinished
// and stale is taken over and run again (the engine's keys keep it from
// sending anything twice).
func (s *Service) fire(ctx context.Context, now time.Time, r run) error {
	if s.isDone(r.ID) {
		return nil
	}
	now = now.UTC()
	r.StartedAt, r.HeartbeatAt, r.Owner, r.Attempts = now, now, s.owner, 1
	_, err := s.runs.InsertOne(ctx, r)
	if mongo.IsDuplicate(err) {
		var cur run
		if err := s.runs.FindOne(ctx, bson.D{{Key: "_id", Value: r.ID}}).Decode(&cur); err != nil {
			return fmt.Errorf("find run %s: %w", r.ID, err)
		}
		if cur.FinishedAt != nil {
			s.markDone(r.ID)
			return nil
		}
		if now.Sub(cur.HeartbeatAt) < StaleAfter {
			return nil // another process is on it
		}
		ok, err := s.claim(ctx, &cur, now)
		if err != nil || !ok {
			return err
		}
		return s.execute(ctx, now, cur)
	}
	if err != nil {
		return fmt.Errorf("start run %s: %w", r.ID, err)
	}
	return s.execute(ctx, now, r)
}

// claim takes over an abandoned run: the update matches only the heartbeat
// that was seen, so of several processes only one wins.
func (s *Service) claim(ctx context.Context, r *run, now time.Time) (bool, error) {
	res, err := s.runs.UpdateOne(ctx, bson.D{
		{Key: "_id", Value: r.ID}, {Key: "finishedAt", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "heartbeatAt", Value: r.HeartbeatAt},
	}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "heartbeatAt", Value: now}, {Key: "owner", Value: s.owner}}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	})
	if err != nil {
		return false, fmt.Errorf("claim run %s: %w", r.ID, err)
	}
	if res.ModifiedCount == 1 {
		s.log.Warn("greeting run taken over from a process that stopped", "run", r.ID, "previousOwner", r.Owner)
		r.HeartbeatAt, r.Owner = now, s.owner
		return true, nil
	}
	return false, nil
}

// sweep takes over abandoned runs of any kind and day (a campaign, or a
// festival whose day has passed since its process died).
func (s *Service) sweep(ctx context.Context, now time.Time) error {
	cur, err := s.runs.Find(ctx, bson.D{
		{Key: "finishedAt", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "heartbeatAt", Value: bson.D{{Key: "$lt", Value: now.UTC().Add(-StaleAfter)}}},
	}, options.Find().SetLimit(sweepLimit))
	if err != nil {
		return fmt.Errorf("find abandoned greeting runs: %w", err)
	}
	var rs []run
	if err := cur.All(ctx, &rs); err != nil {
		return fmt.Errorf("find abandoned greeting runs: %w", err)
	}
	var errs []error
	for _, r := range rs {
		ok, err := s.claim(ctx, &r, now.UTC())
		if err == nil && ok {
			err = s.execute(ctx, now.UTC(), r)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// heartbeat keeps a long fan-out from being taken over: now is the Tick's
// time, and wall time elapsed since is added to it.
type heartbeat struct {
	s       *Service
	id      string
	base    time.Time
	started time.Time
	last    time.Time
}

func (h *heartbeat) beat(ctx context.Context) {
	if time.Since(h.last) < heartbeatEvery {
		return
	}
	h.last = time.Now()
	at := h.base.Add(time.Since(h.started))
	_, err := h.s.runs.UpdateOne(ctx, bson.D{{Key: "_id", Value: h.id}, {Key: "owner", Value: h.s.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "heartbeatAt", Value: at}}}})
	if err != nil {
		h.s.log.Warn("greeting run heartbeat", "run", h.id, "err", err)
	}
}

// execute fans r out and marks it finished.
func (s *Service) execute(ctx context.Context, now time.Time, r run) error {
	hb := &heartbeat{s: s, id: r.ID, base: now, started: time.Now(), last: time.Now()}
	var n int
	var err error
	switch r.Kind {
	case runFestival:
		n, err = s.sendFestival(ctx, r, hb)
	case runBirthday:
		n, err = s.sendBirthdays(ctx, r, hb)
	case runCampaign:
		n, err = s.sendCampaign(ctx, r, hb)
	default:
		err = fmt.Errorf("unknown run kind %q", r.Kind)
	}
	if err != nil {
		// Left unfinished: taken over once its heartbeat is stale.
		return fmt.Errorf("run %s: %w", r.ID, err)
	}
	fin := now.Add(time.Since(hb.started)).UTC()
	_, err = s.runs.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "finishedAt", Value: fin}, {Key: "recipients", Value: n}}}})
	if err != nil {
		return fmt.Errorf("finish run %s: %w", r.ID, err)
	}
	s.markDone(r.ID)
	if r.Kind == runCampaign {
		_, err = s.campaigns.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.CampaignID}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "recipients", Value: n}, {Key: "sentAt", Value: fin}}}})
		if err != nil {
			return fmt.Errorf("finish campaign %s: %w", r.CampaignID, err)
		}
	}
	s.log.Info("greetings sent", "run", r.ID, "recipients", n)
	return nil
}

func recipients(communityID string, ids []string) []notify.Recipient {
	out := make([]notify.Recipient, len(ids))
	for i, id := range ids {
		out[i] = notify.Recipient{Kind: auth.KindPerson, ID: id, CommunityID: communityID}
	}
	return out
}

// sendFestival greets every resident of the community (elders only for an
// ELDERS festival) with the festival's text as it is now. The text is
// rendered without a name ("您好！…"): the engine renders one set of
// variables per message, and a message per person would cost a round trip
// per person.
func (s *Service) sendFestival(ctx context.Context, r run, hb *heartbeat) (int, error) {
	fs, err := s.festivals(ctx, r.CommunityID)
	if err != nil {
		return 0, err
	}
	var f *festival.Festival
	for i := range fs {
		if fs[i].Key == r.FestivalKey {
			f = &fs[i]
		}
	}
	if f == nil || !f.Enabled {
		return 0, nil // removed or switched off meanwhile
	}
	day, err := time.Parse(time.DateOnly, r.Date)
	if err != nil {
		return 0, fmt.Errorf("bad run date %q: %w", r.Date, err)
	}
	text, err := festival.RenderGreeting(f.DefaultGreetingZH, "")
	if err != nil {
		return 0, err
	}
	textEN, err := festival.RenderGreeting(f.DefaultGreetingEN, "")
	if err != nil {
		return 0, err
	}
	msg := notify.Message{
		Kind: notify.FestivalGreeting, Key: r.ID,
		Vars: map[string]any{"festival": f.NameZH, "festivalEN": f.NameEN, "text": text, "textEN": textEN},
		Data: map[string]string{"festival": f.Key, "date": r.Date},
	}
	total := 0
	err = s.eachPersons(ctx, audience{CommunityID: r.CommunityID}, func(ids []string) error {
		if f.Audience == festival.AudienceElders {
			ps, err := s.profiles.ProfilesByPersons(ctx, ids)
			if err != nil {
				return err
			}
			elders := ids[:0:0]
			for _, id := range ids {
				if p := ps[id]; p != nil && p.Birthday != nil && p.Birthday.Year != nil && day.Year()-*p.Birthday.Year >= festival.ElderAge {
					elders = append(elders, id)
				}
			}
			ids = elders
		}
		if len(ids) == 0 {
			return nil
		}
		msg.Recipients = recipients(r.CommunityID, ids)
		if _, err := s.sender.Send(ctx, msg); err != nil {
			return err
		}
		total += len(ids)
		hb.beat(ctx)
		return nil
	})
	return total, err
}

// sendBirthdays greets the residents of the community whose birthday (solar,
// or lunar as it falls this year) is the run's date, each by name, with key
// birthday:<personId>:<date> so a person living in two communities is
// greeted once.
func (s *Service) sendBirthdays(ctx context.Context, r run, hb *heartbeat) (int, error) {
	loc := s.zones(r.CommunityID)
	day, err := time.ParseInLocation(time.DateOnly, r.Date, loc)
	if err != nil {
		return 0, fmt.Errorf("bad run date %q: %w", r.Date, err)
	}
	total := 0
	err = s.eachPersons(ctx, audience{CommunityID: r.CommunityID}, func(ids []string) error {
		ps, err := s.profiles.ProfilesByPersons(ctx, ids)
		if err != nil {
			return err
		}
		var today []string
		for _, id := range ids {
			p := ps[id]
			if p == nil || p.Birthday == nil {
				continue
			}
			if p.Birthday.NextOccurrence(day, loc).Format(time.DateOnly) == r.Date {
				today = append(today, id)
			}
		}
		if len(today) == 0 {
			return nil
		}
		people, err := s.members.PersonsByIDs(ctx, today)
		if err != nil {
			return err
		}
		for _, id := range today {
			name := ""
			if p := people[id]; p != nil {
				name = p.Name
			}
			if name == "" {
				name = "您"
			}
			_, err := s.sender.Send(ctx, notify.Message{
				Kind: notify.BirthdayGreeting, Key: "birthday:" + id + ":" + r.Date,
				Recipients: recipients(r.CommunityID, []string{id}),
				Vars:       map[string]any{"name": name},
				Data:       map[string]string{"date": r.Date},
			})
			if err != nil {
				return err
			}
			total++
		}
		hb.beat(ctx)
		return nil
	})
	return total, err
}

// runByID is for tests and diagnostics.
func (s *Service) runByID(ctx context.Context, id string) (*run, error) {
	var r run
	err := s.runs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if errors.Is(err, mgo.ErrNoDocuments) {
		return nil, nil
	}
	return &r, err
}
