package kpi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/community"
	"qinqing/internal/notify"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/mongo"
)

// The weekly report goes out on Monday at SendHour:SendMinute, community
// time, for the week that ended the night before.
const (
	SendHour   = 8
	SendMinute = 30
)

// staleRun is how long a claimed run may stay unsent before another
// process takes it over (the first died between claim and send). Sending
// twice is harmless: the message key makes it once per recipient.
const staleRun = 5 * time.Minute

// system is the scheduler's caller for listing every community.
var system = &access.Caller{Kind: auth.KindStaff, ID: "system:kpi", Roles: []access.Role{access.Admin}}

// run is one community's weekly report; its _id makes it start once
// across servers.
type run struct {
	ID          string     `bson:"_id"` // weekly:<community>:<Monday>
	CommunityID string     `bson:"communityId"`
	WeekStart   string     `bson:"weekStart"`
	ClaimedAt   time.Time  `bson:"claimedAt"`
	Owner       string     `bson:"owner"`
	SentAt      *time.Time `bson:"sentAt,omitempty"`
	Recipients  int        `bson:"recipients"`
}

func init() {
	mongo.Declare(mongo.Indexes{Collection: "kpi_weekly_runs"}) // _id only
}

// MessageKey is the weekly report's notification key: one per community
// and week, so however often it is sent a supervisor gets it once.
func MessageKey(communityID, weekStart string) string {
	return "kpi-weekly:" + communityID + ":" + weekStart
}

// Tick sends, for every community, last week's report to its supervisors
// on Monday from SendHour:SendMinute in the community's zone. Every server
// calls it from its schedules loop; each report is sent once. A Monday
// with no server running is not caught up later in the week (a report
// about the week before last, arriving mid-week, would mislead more than
// help); that week stays available as weeklyReport.
func (s *Service) Tick(ctx context.Context, now time.Time) error {
	if !s.tickMu.TryLock() {
		return nil // the previous tick is still running
	}
	defer s.tickMu.Unlock()
	cs, err := s.cfg.Communities.List(ctx, system)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range cs {
		if err := s.tickCommunity(ctx, now, c); err != nil {
			errs = append(errs, fmt.Errorf("weekly report of community %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) tickCommunity(ctx context.Context, now time.Time, com *community.Community) error {
	this := monday(now.In(com.Location()))
	sendAt := time.Date(this.Year(), this.Month(), this.Day(), SendHour, SendMinute, 0, 0, this.Location())
	if now.Before(sendAt) || !now.Before(this.AddDate(0, 0, 1)) {
		return nil // not Monday morning yet, or Monday is over
	}
	week := this.AddDate(0, 0, -7)
	r := run{ID: "weekly:" + com.ID + ":" + week.Format(time.DateOnly), CommunityID: com.ID, WeekStart: week.Format(time.DateOnly),
		ClaimedAt: now.UTC(), Owner: s.cfg.Owner}
	if s.sent[r.ID] {
		return nil
	}
	ok, err := s.claim(ctx, r)
	if err != nil || !ok {
		return err
	}
	rep, err := s.report(ctx, com, week)
	if err != nil {
		return err
	}
	sups, err := s.cfg.Staff.WithRole(ctx, com.ID, access.Supervisor)
	if err != nil {
		return err
	}
	rs := make([]notify.Recipient, 0, len(sups))
	for _, st := range sups {
		rs = append(rs, notify.Recipient{Kind: auth.KindStaff, ID: st.ID, CommunityID: com.ID})
	}
	if len(rs) > 0 {
		last := week.AddDate(0, 0, 6)
		if _, err := s.cfg.Sender.Send(ctx, notify.Message{Kind: notify.WeeklyReport, Key: MessageKey(com.ID, rep.WeekStart), Recipients: rs,
			Vars: map[string]any{
				"community": com.Name, "text": rep.SummaryZH, "textEN": rep.SummaryEN,
				"week":   fmt.Sprintf("%d月%d日—%d月%d日", week.Month(), week.Day(), last.Month(), last.Day()),
				"weekEN": rep.WeekStart + " – " + rep.WeekEnd,
			},
			Data: map[string]string{"communityId": com.ID, "weekStart": rep.WeekStart}}); err != nil {
			return err
		}
	}
	sentAt := s.cfg.Now().UTC()
	if _, err := s.runs.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sentAt", Value: sentAt}, {Key: "recipients", Value: len(rs)}}}}); err != nil {
		return fmt.Errorf("mark weekly report sent: %w", err)
	}
	s.sent[r.ID] = true
	return nil
}

// claim starts run r: the process whose insert wins sends it; the others
// skip it, unless it was claimed more than staleRun ago and never marked
// sent. (Two processes taking over at once would both send: the message
// key still makes it once per supervisor.)
func (s *Service) claim(ctx context.Context, r run) (bool, error) {
	_, err := s.runs.InsertOne(ctx, r)
	if err == nil {
		return true, nil
	}
	if !mongo.IsDuplicate(err) {
		return false, fmt.Errorf("claim weekly report: %w", err)
	}
	var old run
	if err := s.runs.FindOne(ctx, bson.D{{Key: "_id", Value: r.ID}}).Decode(&old); err != nil {
		return false, fmt.Errorf("weekly report run: %w", err)
	}
	if old.SentAt != nil {
		s.sent[r.ID] = true
		return false, nil
	}
	if r.ClaimedAt.Sub(old.ClaimedAt) < staleRun {
		return false, nil
	}
	res, err := s.runs.UpdateOne(ctx, bson.D{{Key: "_id", Value: r.ID}, {Key: "claimedAt", Value: old.ClaimedAt}, {Key: "sentAt", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "claimedAt", Value: r.ClaimedAt}, {Key: "owner", Value: r.Owner}}}})
	if err != nil {
		return false, fmt.Errorf("take over weekly report: %w", err)
	}
	return res.ModifiedCount == 1, nil
}
