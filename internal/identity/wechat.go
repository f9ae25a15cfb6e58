package identity

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/validate"
	"qinqing/internal/platform/wechat"
)

const bindTicketPurpose = "wechat-bind"

// WechatLogin is the answer to a mini-program login: either a Session, or,
// for a WeChat user not yet bound to a resident, a ticket to bind a phone with.
type WechatLogin struct {
	Session       *Session
	BindingTicket string
	NeedsPhone    bool
}

type bindingDoc struct {
	OpenID   string    `bson:"_id"`
	PersonID string    `bson:"personId"`
	UnionID  string    `bson:"unionId,omitempty"`
	BoundAt  time.Time `bson:"boundAt"`
}

// LoginWithWechat exchanges a wx.login code. The openid never leaves the
// server: an unbound user gets a signed, short-lived ticket naming it, so the
// client cannot claim somebody else's openid when binding.
func (s *Service) LoginWithWechat(ctx context.Context, code string) (*WechatLogin, error) {
	if code == "" || len(code) > 256 {
		return nil, ErrBadWechatCode
	}
	ws, err := s.wx.Code2Session(ctx, code)
	if err != nil {
		if errors.Is(err, wechat.ErrInvalidCode) {
			return nil, ErrBadWechatCode
		}
		s.log.ErrorContext(ctx, "identity: wechat code2session failed", "err", err)
		return nil, ErrWechatUnavailable
	}
	var b bindingDoc
	err = s.db.Collection(colBindings).FindOne(ctx, bson.M{"_id": ws.OpenID}).Decode(&b)
	switch {
	case err == nil:
		sess, err := s.newSession(ctx, auth.KindPerson, b.PersonID, "")
		if err != nil {
			return nil, err
		}
		return &WechatLogin{Session: sess}, nil
	case errors.Is(err, mongodrv.ErrNoDocuments):
		ticket, err := s.tokens.SignShort(bindTicketPurpose, ws.OpenID, s.cfg.BindTicketTTL)
		if err != nil {
			return nil, err
		}
		return &WechatLogin{BindingTicket: ticket, NeedsPhone: true}, nil
	default:
		return nil, err
	}
}

// BindPhone binds the ticket's WeChat user to the resident who holds phone,
// proved by an SMS code checked exactly as for LoginWithCode (same attempt
// limit, same single use), and signs them in.
func (s *Service) BindPhone(ctx context.Context, ticket, phone, code, clientIP string) (*Session, error) {
	openID, err := s.tokens.VerifyShort(bindTicketPurpose, ticket)
	if err != nil || openID == "" {
		return nil, ErrBadTicket
	}
	phone, err = validate.Phone("phone", phone)
	if err != nil {
		return nil, err
	}
	personID, err := s.verifyCodeAndFindPerson(ctx, phone, code, clientIP)
	if err != nil {
		return nil, err
	}
	// An upsert rather than an insert: if the same WeChat user bound twice
	// within the ticket's life, the latest proven phone wins.
	_, err = s.db.Collection(colBindings).UpdateOne(ctx, bson.M{"_id": openID},
		bson.M{"$set": bson.M{"personId": personID, "boundAt": s.now()}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "identity: wechat user bound", "person", personID, "phone", maskPhone(phone))
	return s.newSession(ctx, auth.KindPerson, personID, "")
}
