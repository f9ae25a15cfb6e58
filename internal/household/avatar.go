package household

import (
	"context"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/files"
	"qinqing/internal/platform/validate"
)

// AvatarPurpose marks files that are a person's photo.
const AvatarPurpose = "avatar"

// UseFiles gives the register a file store for photos; without one, photo
// uploads answer UNAVAILABLE.
func (s *Service) UseFiles(f *files.Store) { s.files = f }

// UpdateAvatar stores a new photo of a person, replacing the old one: the
// person themself, or the butlers and supervisors of their community.
func (s *Service) UpdateAvatar(ctx context.Context, c *access.Caller, personID, filename string, r io.Reader) (*Person, error) {
	if err := validate.ID("personId", personID); err != nil {
		return nil, err
	}
	if s.files == nil {
		return nil, apperr.ErrUnavailable
	}
	p, err := s.Person(ctx, c, personID)
	if err != nil {
		return nil, err
	}
	if !(c.IsPerson() && c.ID == personID) {
		ok, err := s.staffServesPerson(ctx, c, personID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, apperr.ErrForbidden
		}
	}
	f, err := s.files.SaveImage(ctx, "photo", filename, r, files.Meta{Purpose: AvatarPurpose, SubjectID: personID, UploadedBy: c.ID})
	if err != nil {
		return nil, err
	}
	if _, err := s.persons.UpdateOne(ctx, bson.D{{Key: "_id", Value: personID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "avatarFileId", Value: f.ID}}}}); err != nil {
		_ = s.files.Delete(ctx, f.ID) // the person still shows the old photo: drop the orphan
		return nil, fmt.Errorf("set avatar: %w", err)
	}
	if p.AvatarFileID != "" {
		_ = s.files.Delete(ctx, p.AvatarFileID) // best effort; an orphan costs only space
	}
	p.AvatarFileID = f.ID
	return p, nil
}

func (s *Service) staffServesPerson(ctx context.Context, c *access.Caller, personID string) (bool, error) {
	ms, err := s.MembershipsByPersons(ctx, []string{personID})
	if err != nil {
		return false, err
	}
	for _, m := range ms[personID] {
		if c.StaffIn(m.CommunityID, access.Butler, access.Supervisor) {
			return true, nil
		}
	}
	return false, nil
}

// MayReadFile is the access rule for the register's files: a photo is seen
// by whoever may see the person.
func (s *Service) MayReadFile(ctx context.Context, c *access.Caller, m files.Meta) (bool, error) {
	if m.Purpose != AvatarPurpose {
		return false, nil
	}
	return s.canSeePerson(ctx, c, m.SubjectID)
}
