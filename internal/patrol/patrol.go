// Package patrol keeps the guards' patrol routes (巡更路线) and what happens
// on them. A route of a community has ordered checkpoints, each with a code
// posted on site that a guard scans, and a shift (e.g. 22:00-06:00 nightly)
// walked in rounds (every 2 hours). A scan carries the guard's doneAt and an
// idempotency key, so a phone that uploads later, or again after a lost
// answer, records once and at the time it was scanned. While a shift is on,
// a job marks a checkpoint MISSED once its window has passed unscanned and
// tells the community's security supervisors; a scan after its window is
// recorded as LATE.
package patrol

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mgo "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/platform/validate"
)

// Limits of a route.
const (
	MaxCheckpoints = 50
	MinEvery       = 15 * time.Minute
	MaxTolerance   = 60 * time.Minute
	// MaxSkew and MaxAge bound a scan's doneAt (ESTATE.md, offline
	// records): a phone's clock may run a little ahead, and an upload
	// older than a week is no longer a patrol record anyone can check.
	MaxSkew = validate.OfflineSkew
	MaxAge  = validate.OfflineAge
)

// Checkpoint is one place on a route (巡更点).
type Checkpoint struct {
	ID    string `bson:"id"`
	Name  string `bson:"name"`
	Place string `bson:"place,omitempty"`
	// Code is what is posted on site and scanned: generated, 80 random
	// bits, so it cannot be guessed and does not repeat in a community.
	Code string `bson:"code"`
	// Offset is when the checkpoint is due after a round starts;
	// Tolerance how far either side of it still counts as on time.
	Offset    time.Duration `bson:"offset"`
	Tolerance time.Duration `bson:"tolerance"`
}

// Shift is when a route is walked, in the community's time zone: from Start
// to End (crossing midnight when End is not after Start), every day, a
// round starting every Every.
type Shift struct {
	Start string        `bson:"start"` // "22:00"
	End   string        `bson:"end"`   // "06:00"
	Every time.Duration `bson:"every"`
}

// Route is a patrol route of a community.
type Route struct {
	ID          string       `bson:"_id"`
	CommunityID string       `bson:"communityId"`
	Name        string       `bson:"name"`
	Checkpoints []Checkpoint `bson:"checkpoints"`
	Shift       Shift        `bson:"shift"`
	Active      bool         `bson:"active"`
	Version     int          `bson:"version"`
	CreatedAt   time.Time    `bson:"createdAt"`
	UpdatedAt   time.Time    `bson:"updatedAt"`
}

// Checkpoint returns the route's checkpoint id, if any.
func (r *Route) Checkpoint(id string) *Checkpoint {
	if r == nil {
		return nil
	}
	for i := range r.Checkpoints {
		if r.Checkpoints[i].ID == id {
			return &r.Checkpoints[i]
		}
	}
	return nil
}

// Status of a checkpoint in a round.
type Status string

const (
	OnTime Status = "ON_TIME" // scanned within its window
	Late   Status = "LATE"    // scanned after its window
	Missed Status = "MISSED"  // its window passed unscanned while the shift was on
)

// Scan is one checkpoint scanned in one round.
type Scan struct {
	ID             string    `bson:"_id"`
	CommunityID    string    `bson:"communityId"`
	RouteID        string    `bson:"routeId"`
	RoundID        string    `bson:"roundId"`
	CheckpointID   string    `bson:"checkpointId"`
	GuardID        string    `bson:"guardId"`
	IdempotencyKey string    `bson:"idempotencyKey"`
	Status         Status    `bson:"status"`
	RoundStart     time.Time `bson:"roundStart"`
	DueAt          time.Time `bson:"dueAt"`
	DoneAt         time.Time `bson:"doneAt"`
	RecordedAt     time.Time `bson:"recordedAt"`
	// Checkpoint is filled for the API, with the code only for leads.
	Checkpoint *Checkpoint `bson:"-"`
}

// Miss is a checkpoint whose window passed unscanned in a round.
type Miss struct {
	ID           string      `bson:"_id"` // roundId + ":" + checkpointId: once per round
	CommunityID  string      `bson:"communityId"`
	RouteID      string      `bson:"routeId"`
	RoundID      string      `bson:"roundId"`
	CheckpointID string      `bson:"checkpointId"`
	DueAt        time.Time   `bson:"dueAt"`
	MarkedAt     time.Time   `bson:"markedAt"`
	Checkpoint   *Checkpoint `bson:"-"` // as on Scan
}

// Round is one walk of a route, written when its first scan or miss is.
type Round struct {
	ID          string    `bson:"_id"` // routeId + ":" + start in Unix seconds
	CommunityID string    `bson:"communityId"`
	RouteID     string    `bson:"routeId"`
	Start       time.Time `bson:"start"`
	End         time.Time `bson:"end"`
	// GuardIDs are the guards who scanned in it: a guard's own patrols.
	GuardIDs []string `bson:"guardIds"`
	SortKey  string   `bson:"sortKey"`
}

var (
	ErrRouteNotFound = apperr.New(apperr.NotFound, "patrol.route_not_found")
	// ErrBadCode is all a wrong code gets: not which checkpoints exist.
	ErrBadCode  = apperr.New(apperr.BadUserInput, "patrol.bad_code")
	ErrOffShift = apperr.New(apperr.Conflict, "patrol.off_shift")
	ErrInactive = apperr.New(apperr.Conflict, "patrol.inactive")
)

func init() {
	apperr.Register(map[string]apperr.Text{
		"patrol.route_not_found": {ZH: "巡更路线不存在", EN: "Patrol route not found"},
		"patrol.bad_code":        {ZH: "无效的巡更点编码", EN: "is not a checkpoint code of this community"},
		"patrol.off_shift":       {ZH: "该时间不在巡更班次内", EN: "That time is not within a patrol shift of the route"},
		"patrol.inactive":        {ZH: "该巡更路线已停用", EN: "The patrol route is not in use"},
		"patrol.bad_time":        {ZH: "时间格式应为 HH:MM", EN: "must be a time of day as HH:MM"},
		"patrol.offset_order":    {ZH: "巡更点须按到达时间先后排列，且在一轮之内", EN: "must be in order of when they are due, within one round"},
		"patrol.key_reused":      {ZH: "该幂等键已用于另一次扫码", EN: "was already used for another scan"},
	})
	mongo.Declare(
		mongo.Indexes{Collection: "patrol_routes", Models: []mgo.IndexModel{
			// Routes of a community, and the scan's code lookup.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "name", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "checkpoints.code", Value: 1}}},
			// The missed-checkpoint job's sweep.
			{Keys: bson.D{{Key: "active", Value: 1}}},
		}},
		mongo.Indexes{Collection: "patrol_scans", Models: []mgo.IndexModel{
			// A retried upload records once; a checkpoint counts once a round.
			{Keys: bson.D{{Key: "guardId", Value: 1}, {Key: "idempotencyKey", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "roundId", Value: 1}, {Key: "checkpointId", Value: 1}}, Options: options.Index().SetUnique(true)},
			{Keys: bson.D{{Key: "roundId", Value: 1}, {Key: "dueAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "patrol_misses", Models: []mgo.IndexModel{
			{Keys: bson.D{{Key: "roundId", Value: 1}, {Key: "dueAt", Value: 1}}},
		}},
		mongo.Indexes{Collection: "patrol_rounds", Models: []mgo.IndexModel{
			// The supervisors' list and each guard's own, newest first.
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "guardIds", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "routeId", Value: 1}, {Key: "sortKey", Value: 1}}},
			{Keys: bson.D{{Key: "communityId", Value: 1}, {Key: "routeId", Value: 1}, {Key: "guardIds", Value: 1}, {Key: "sortKey", Value: 1}}},
		}},
	)
}
