package notify

import (
	"context"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/sms"
)

// Phones finds residents' phone numbers.
type Phones interface {
	PhonesOf(ctx context.Context, ids []string) (map[string]string, error)
}

// Holders says which subscribe-message templates each user holds an unspent
// grant for (the WeChat channel reaches them with those templates).
type Holders interface {
	Holders(ctx context.Context, ids []string) (map[string]map[string]bool, error)
}

// SMS is the last-resort channel: an emergency notice, or the progress of a
// request filed for a resident without the app (a call to the family
// hotline), to someone with no device gets a text message. Everyone with a
// device was reached by push, and everyone the mini program reaches with
// this kind of message (its template configured, a grant for it held) by
// WeChat, so their SMS delivery is suppressed rather than sent twice; a
// mini-program user without a grant for the kind still gets the text.
type SMS struct {
	Sender    sms.Sender
	Phones    Phones
	Devices   *Devices
	Grants    Holders         // nil while the WeChat channel is off
	Templates map[Kind]string // the WeChat channel's template per kind
}

// byWechat reports a delivery the WeChat channel makes instead.
func (s *SMS) byWechat(wx map[string]map[string]bool, o Outgoing) bool {
	tpl := s.Templates[o.Kind]
	return tpl != "" && wx[o.RecipientID][tpl]
}

// Channel names it.
func (s *SMS) Channel() string { return ChannelSMS }

// MaxBatch keeps a round short: the gateway takes one message per request,
// one after another.
func (s *SMS) MaxBatch() int { return 500 }

// Send texts the recipients who have no device.
func (s *SMS) Send(ctx context.Context, batch []Outgoing) []Result {
	out := make([]Result, len(batch))
	ids := make([]string, 0, len(batch))
	for _, o := range batch {
		if o.RecipientKind != auth.KindStaff {
			ids = append(ids, o.RecipientID)
		}
	}
	devs, err := s.Devices.TokensFor(ctx, ids)
	var wx map[string]map[string]bool
	if err == nil && s.Grants != nil {
		wx, err = s.Grants.Holders(ctx, ids)
	}
	if err == nil {
		var phones map[string]string
		if phones, err = s.Phones.PhonesOf(ctx, ids); err == nil {
			for i, o := range batch {
				out[i] = Result{DeliveryID: o.DeliveryID}
				switch {
				case o.RecipientKind == auth.KindStaff:
					// Staff work in the staff app; a kind shared with them (a
					// supervisor told of a laundry discrepancy) is no reason to
					// text them.
					out[i].Status, out[i].Error = StatusSuppressed, "staff are not texted"
				case len(devs[o.RecipientID]) > 0:
					out[i].Status, out[i].Error = StatusSuppressed, "reached by push"
				case s.byWechat(wx, o):
					out[i].Status, out[i].Error = StatusSuppressed, "reached by the mini program"
				case phones[o.RecipientID] == "":
					out[i].Status, out[i].Error = StatusUndeliverable, "no phone"
				default:
					if err := s.Sender.Send(ctx, phones[o.RecipientID], "【亲情物业】"+o.Title+"："+o.Body); err != nil {
						out[i].Status, out[i].Error = StatusRetry, err.Error()
					} else {
						out[i].Status = StatusSent
					}
				}
			}
			return out
		}
	}
	for i, o := range batch {
		out[i] = Result{DeliveryID: o.DeliveryID, Status: StatusRetry, Error: err.Error()}
	}
	return out
}
