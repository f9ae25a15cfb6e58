package app

import (
	"time"

	"qinqing/graph"
	"qinqing/internal/committee"
	"qinqing/internal/platform/mongo"
	"qinqing/internal/tasks"
)

// wireMeetings adds the committee's meetings, whose open action items go
// on the responsible staff members' task lists.
func wireMeetings(svc *graph.Services, db *mongo.DB, roster committee.Roster, zone func(string) *time.Location, now func() time.Time) {
	svc.Meetings = committee.NewMeetings(committee.MeetingsConfig{DB: db, Roster: roster, Staff: svc.Staff, Zone: zone, Now: now})
	svc.Tasks.AddSource(tasks.CommitteeActions{Meetings: svc.Meetings})
}
