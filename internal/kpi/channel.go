package kpi

import (
	"context"
	"slices"
	"time"

	"qinqing/internal/freeservice"
	"qinqing/internal/intake"
	"qinqing/internal/moving"
	"qinqing/internal/platform/auth"
)

// CampaignVisits streams the free-campaign visits created in a window.
type CampaignVisits interface {
	CreatedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*freeservice.Visit) error) error
}

// MoveBookings streams the move bookings made in a window.
type MoveBookings interface {
	BookedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*moving.Booking) error) error
}

// ItemKind is a kind of item a resident files, or staff file for them.
type ItemKind string

const (
	KindRepair          ItemKind = "REPAIR"
	KindComplaint       ItemKind = "COMPLAINT"
	KindServiceOrder    ItemKind = "SERVICE_ORDER"
	KindCampaignBooking ItemKind = "CAMPAIGN_BOOKING"
	KindMoveBooking     ItemKind = "MOVE_BOOKING"
	KindEnquiry         ItemKind = "ENQUIRY"
)

// ItemKinds in the order reports list them.
var ItemKinds = []ItemKind{KindRepair, KindComplaint, KindServiceOrder, KindCampaignBooking, KindMoveBooking, KindEnquiry}

// ChannelCount is how many items came in through one channel, and their
// share of the items it is counted among.
type ChannelCount struct {
	Channel intake.Channel
	Count   int
	Share   Ratio
}

// KindFiled is one kind's items filed in the window, per channel.
type KindFiled struct {
	Kind      ItemKind
	Total     int
	ByChannel []ChannelCount
}

// Filed are the items filed in the window per intake channel (受理渠道):
// in all, and per kind of item. ByKind lists only the kinds whose source
// is connected; every channel is listed, zeros included.
type Filed struct {
	Total     int
	ByChannel []ChannelCount
	ByKind    []KindFiled
}

// filedTally counts a window's items per kind and channel.
type filedTally map[filedKey]int

type filedKey struct {
	kind ItemKind
	ch   intake.Channel
}

// add counts one item of kind through ch; a channel not in the list (none
// is written) is taken as the resident's own, as an item without a record.
func (t *filedTally) add(kind ItemKind, ch intake.Channel) {
	if !slices.Contains(intake.Channels, ch) {
		ch = intake.App
	}
	if *t == nil {
		*t = filedTally{}
	}
	(*t)[filedKey{kind, ch}]++
}

// channelOf is how an item came in. Its intake record says so when it has
// one. Without one, staff who put it on record themselves found it on site
// (a public-area fault reported by staff, a fault found on a free-service
// home visit, a campaign booking a butler or supervisor made without
// naming a channel): VISIT. Anything else the resident filed in the app: APP.
func channelOf(rec *intake.Record, byStaff bool) intake.Channel {
	switch {
	case rec != nil:
		return rec.Channel
	case byStaff:
		return intake.Visit
	}
	return intake.App
}

// campaignBooking reports a visit created by a booking (not by staff
// recording a visit nobody booked) and the channel of that first booking,
// from the first step of its timeline, which a later move of the booking
// does not change.
func campaignBooking(v *freeservice.Visit) (intake.Channel, bool) {
	if len(v.Timeline) == 0 || v.Timeline[0].Action != "book" {
		return "", false
	}
	first := v.Timeline[0]
	if ch, ok := first.Data["channel"].(string); ok {
		return intake.Channel(ch), true
	}
	return channelOf(nil, first.ActorKind == string(auth.KindStaff)), true
}

// addBookings counts the campaign and move bookings of every window, one
// streamed query per collection; a source not connected is left out.
func (s *Service) addBookings(ctx context.Context, communityID string, lo, hi time.Time, ws []*window) error {
	if s.cfg.Campaigns != nil {
		if err := s.cfg.Campaigns.CreatedIn(ctx, communityID, lo, hi, func(v *freeservice.Visit) error {
			ch, ok := campaignBooking(v)
			for _, w := range ws {
				if ok && w.in(v.CreatedAt) {
					w.filed.add(KindCampaignBooking, ch)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if s.cfg.Moves != nil {
		if err := s.cfg.Moves.BookedIn(ctx, communityID, lo, hi, func(b *moving.Booking) error {
			for _, w := range ws {
				if w.in(b.CreatedAt) {
					w.filed.add(KindMoveBooking, channelOf(b.Intake, false))
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// connectedKinds are the kinds whose source the service has.
func (s *Service) connectedKinds() []ItemKind {
	return slices.DeleteFunc(slices.Clone(ItemKinds), func(k ItemKind) bool {
		return (k == KindEnquiry && s.cfg.Enquiries == nil) || (k == KindCampaignBooking && s.cfg.Campaigns == nil) ||
			(k == KindMoveBooking && s.cfg.Moves == nil)
	})
}

// filed turns a window's tally into its figures; each share is of the
// items it is counted among (the kind's, or all).
func (t filedTally) filed(kinds []ItemKind) Filed {
	var f Filed
	all := make([]int, len(intake.Channels))
	for _, k := range kinds {
		row := make([]int, len(intake.Channels))
		kf := KindFiled{Kind: k}
		for c, ch := range intake.Channels {
			row[c] = t[filedKey{k, ch}]
			kf.Total += row[c]
			all[c] += row[c]
		}
		kf.ByChannel = channelCounts(row, kf.Total)
		f.Total += kf.Total
		f.ByKind = append(f.ByKind, kf)
	}
	f.ByChannel = channelCounts(all, f.Total)
	return f
}

func channelCounts(counts []int, total int) []ChannelCount {
	out := make([]ChannelCount, len(intake.Channels))
	for c, ch := range intake.Channels {
		out[c] = ChannelCount{Channel: ch, Count: counts[c], Share: Ratio{Numerator: counts[c], Denominator: total, Available: true}}
	}
	return out
}

// Of is the count of kind through ch (0 when kind is not connected).
func (f Filed) Of(kind ItemKind, ch intake.Channel) int {
	for _, k := range f.ByKind {
		if k.Kind == kind {
			return k.ByChannel[slices.Index(intake.Channels, ch)].Count
		}
	}
	return 0
}
