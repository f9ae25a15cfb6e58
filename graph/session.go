package graph

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"qinqing/graph/model"
	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/community"
	"qinqing/internal/household"
	"qinqing/internal/identity"
	"qinqing/internal/platform/auth"
	"qinqing/internal/platform/page"
)

type ipKey struct{}

// WithClientIP records the client address for per-IP rate limits. Behind a
// load balancer the peer is the proxy, so X-Forwarded-For is believed only
// when the peer is one of the trusted proxies, and then the right-most address
// that is not itself a trusted proxy is the client (the left part of the
// header is whatever the client chose to send).
func WithClientIP(ctx context.Context, r *http.Request, trusted []netip.Prefix) context.Context {
	return context.WithValue(ctx, ipKey{}, ClientIP(r, trusted))
}

// ClientIP applies the rule above.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	if !isTrusted(host) {
		return host
	}
	// Every X-Forwarded-For line, in order: a balancer may append its own
	// line after one the client sent, and the first line alone is the client's.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		if h == "" {
			continue
		}
		if !isTrusted(h) {
			if a, err := netip.ParseAddr(h); err == nil {
				return a.Unmap().String()
			}
			return host
		}
	}
	return host
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

// authPayload answers a login with tokens and the new caller's Me.
func (r *Resolver) authPayload(ctx context.Context, s *identity.Session) (*model.AuthPayload, error) {
	c, err := r.ResolveCaller(ctx, auth.Identity{Kind: s.Kind, Subject: s.SubjectID, Session: s.FamilyID})
	if err != nil {
		return nil, err
	}
	me, err := r.me(ctx, c)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{
		AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessTokenExpiresAt,
		RefreshToken: s.RefreshToken, RefreshTokenExpiresAt: s.RefreshTokenExpiresAt, Me: me,
	}, nil
}

// ResolveCaller loads roles and scopes for a verified identity.
func (r *Resolver) ResolveCaller(ctx context.Context, id auth.Identity) (*access.Caller, error) {
	if id.Kind == auth.KindStaff {
		return r.Svc.Staff.Caller(ctx, id.Subject, id.Session)
	}
	return r.Svc.Households.Caller(ctx, id.Subject, id.Session)
}

func (r *Resolver) me(ctx context.Context, c *access.Caller) (*model.Me, error) {
	me := &model.Me{Kind: c.Kind, Roles: []access.Role{}, Memberships: []*household.Membership{}, Permissions: Permissions(c)}
	var communityIDs []string
	if c.IsStaff() {
		st, err := r.Svc.Staff.Get(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		me.Staff, me.Roles, communityIDs = st, c.Roles, c.Communities
	} else {
		p, err := one(ctx, loaders(ctx).Person, c.ID)
		if err != nil {
			return nil, err
		}
		me.Person = p
		ms, err := list(ctx, loaders(ctx).MembershipsOfPerson, c.ID)
		if err != nil {
			return nil, err
		}
		me.Memberships = ms
		for _, m := range ms {
			if !slices.Contains(me.Roles, m.Role) {
				me.Roles = append(me.Roles, m.Role)
			}
			if !slices.Contains(communityIDs, m.CommunityID) {
				communityIDs = append(communityIDs, m.CommunityID)
			}
		}
	}
	if c.IsAdmin() {
		cs, err := r.Svc.Communities.List(ctx, c)
		if err != nil {
			return nil, err
		}
		me.Communities = cs
		return me, nil
	}
	cs, err := all(ctx, loaders(ctx).Community, communityIDs)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = []*community.Community{}
	}
	me.Communities = cs
	return me, nil
}

// Permissions are capabilities the front ends use to show screens; the
// services still check every call.
func Permissions(c *access.Caller) []string {
	p := []string{}
	add := func(ok bool, names ...string) {
		if ok {
			p = append(p, names...)
		}
	}
	if c.IsPerson() {
		p = append(p, "household:read_own", "care_profile:edit_own")
		owner := false
		for _, m := range c.Memberships {
			owner = owner || m.Role == access.Owner
		}
		add(owner, "household:manage_family")
		return p
	}
	add(c.IsAdmin(), "community:create", "staff:manage")
	add(c.IsAdmin() || c.Has(access.Supervisor), "building:create", "staff:read")
	add(true, "household:read")
	add(c.IsAdmin() || c.Has(access.Supervisor, access.Butler), "household:manage", "household:create")
	add(c.Has(access.Supervisor, access.Butler), "care_profile:edit", "visit:record", "visit:read")
	add(c.Has(access.Supervisor) || (c.Has(access.Butler) && (len(c.Buildings) > 0 || len(c.Households) > 0)), "archive:read_sensitive")
	add(c.Has(access.Supervisor), "audit:read")
	return p
}

func (r *Resolver) visitConnection(ctx context.Context, c *access.Caller, f archive.VisitFilter, p page.Request) (*model.VisitConnection, error) {
	pg, err := r.Svc.Archive.Visits(ctx, c, f, p)
	if err != nil {
		return nil, err
	}
	return &model.VisitConnection{
		Edges:    edges(pg, func(cur string, n *archive.Visit) *model.VisitEdge { return &model.VisitEdge{Cursor: cur, Node: n} }),
		PageInfo: pageInfo(pg),
	}, nil
}
