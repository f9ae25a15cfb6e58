package enquiry

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/archive"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// Staff notes (内部备注) are what staff learn about the resident while
// taking a question (独居老人, 听力不好, 家庭困难). They are the care
// archive's kind of detail, so the archive's rule and audit log govern
// them: kept apart from the question, answer, callbacks and timeline the
// resident reads, readable only by the household's responsible butler and
// the community's supervisors, each read recorded before it is shown.
// Whoever may take a step on the enquiry may add one (the front desk hears
// it on the phone) without being able to read the notes back.

// StaffNote is one note added with a step.
type StaffNote struct {
	StaffID string    `bson:"staffId"`
	Text    string    `bson:"text"`
	At      time.Time `bson:"at"`
}

// StaffNotesField names an enquiry's staff notes on the archive audit log.
const StaffNotesField = "enquiry.staffNotes"

// ErrStaffNotesForbidden refuses a read of staff notes.
var ErrStaffNotesForbidden = apperr.New(apperr.Forbidden, "enquiry.staff_notes_forbidden")

func init() {
	apperr.Register(map[string]apperr.Text{
		"enquiry.staff_notes_forbidden": {ZH: "内部备注仅限该户负责管家和本小区主管查看", EN: "Staff notes are for the household's butler and the community's supervisors only"},
	})
}

// MayReadStaffNotes is the archive's rule (archive.MayReadSensitive) for
// x's staff notes, decided from the enquiry alone (it keeps its household's
// building), so a list's reads take no lookup and share one audit batch. A
// question tied to no household has no responsible butler: the supervisors
// of its community answer for it, and they alone read its notes.
func MayReadStaffNotes(c *access.Caller, x *Enquiry) (access.HouseholdRef, bool) {
	if x.HouseholdID == "" {
		return access.HouseholdRef{CommunityID: x.CommunityID}, c.SupervisesIn(x.CommunityID)
	}
	return archive.MayReadSensitive(c, []access.HouseholdRef{{ID: x.HouseholdID, CommunityID: x.CommunityID, BuildingID: x.BuildingID}})
}

// StaffNotesFor returns x's staff notes if c may read them, with the read
// that must be on the archive audit log before they are shown (the graph
// layer batches those through archive.Service.RecordReads). No notes is no
// read: nothing is disclosed, and a supervisor's list of a hundred
// enquiries without notes does not bury the log. Others get
// ErrStaffNotesForbidden whether or not there are notes, so a refusal
// tells nothing either.
func StaffNotesFor(c *access.Caller, x *Enquiry) ([]StaffNote, *archive.SensitiveRead, error) {
	via, ok := MayReadStaffNotes(c, x)
	if !ok {
		return nil, nil, ErrStaffNotesForbidden
	}
	if len(x.StaffNotes) == 0 {
		return []StaffNote{}, nil, nil
	}
	return x.StaffNotes, &archive.SensitiveRead{PersonID: x.AskerID, Via: via, Field: StaffNotesField, Subject: "enquiry:" + x.ID}, nil
}

// checkNote validates the staff note given with a step; "" is none. Only
// staff write them.
func checkNote(c *access.Caller, field, text string) (string, error) {
	text, err := validate.Text(field, text, false, 500)
	if err != nil || text == "" {
		return "", err
	}
	if !c.IsStaff() {
		return "", apperr.ErrForbidden
	}
	return text, nil
}

// pushNote adds the step's staff note, if any, to its update.
func pushNote(extra bson.D, c *access.Caller, text string, now time.Time) bson.D {
	if text == "" {
		return extra
	}
	n := StaffNote{StaffID: c.ID, Text: text, At: now}
	return append(extra, bson.E{Key: "$push", Value: bson.D{{Key: "staffNotes", Value: n}}})
}
