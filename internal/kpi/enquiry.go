package kpi

import (
	"context"
	"time"

	"qinqing/internal/enquiry"
	"qinqing/internal/intake"
)

// Enquiries streams the enquiries (咨询) recorded in a window.
type Enquiries interface {
	ReceivedIn(ctx context.Context, communityID string, from, to time.Time, fn func(*enquiry.Enquiry) error) error
}

// EnquiryKPIs are about the enquiries received (recorded) in the window;
// each outcome is as known at ComputedAt.
type EnquiryKPIs struct {
	Received int
	// Answered: answered with any outcome / received.
	Answered Ratio
	// OnTheSpot: answered as they were asked / received.
	OnTheSpot Ratio
	// OnTime: answered by the promised time / those whose outcome is known
	// (answered, or still open past the promised time).
	OnTime Ratio
	// FaqCoverage: received with an FAQ entry linked (answered from one,
	// or published from it) / received.
	FaqCoverage Ratio
}

// addEnquiry counts an enquiry received in w.
func (w *window) addEnquiry(x *enquiry.Enquiry, now time.Time) {
	if !w.in(x.CreatedAt) {
		return
	}
	e := &w.k.Enquiries
	e.Received++
	w.filed.add(KindEnquiry, intake.Channel(x.Channel))
	answered := x.Status == enquiry.Closed
	e.Answered.count(answered)
	e.OnTheSpot.count(answered && x.OnTheSpot)
	if answered || now.After(x.PromisedBy) {
		e.OnTime.count(x.AnsweredOnTime())
	}
	e.FaqCoverage.count(x.FaqEntryID != "")
}

// addEnquiries counts the enquiries of every window in one streamed query;
// without the source connected the figures are not available.
func (s *Service) addEnquiries(ctx context.Context, communityID string, lo, hi, now time.Time, ws []*window) error {
	if s.cfg.Enquiries == nil {
		return nil
	}
	if err := s.cfg.Enquiries.ReceivedIn(ctx, communityID, lo, hi, func(x *enquiry.Enquiry) error {
		for _, w := range ws {
			w.addEnquiry(x, now)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, w := range ws {
		e := &w.k.Enquiries
		for _, r := range []*Ratio{&e.Answered, &e.OnTheSpot, &e.OnTime, &e.FaqCoverage} {
			r.Available = true
		}
	}
	return nil
}
