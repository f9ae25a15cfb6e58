package community

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"qinqing/internal/access"
	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/validate"
)

// BuildingType is the kind of building, which sets its management fee rate
// (高层, 多层, 别墅 and shops are charged differently by most schedules).
type BuildingType string

const (
	HighRise    BuildingType = "HIGH_RISE"    // 高层
	MultiStorey BuildingType = "MULTI_STOREY" // 多层
	Villa       BuildingType = "VILLA"        // 别墅
	Commercial  BuildingType = "COMMERCIAL"   // 商业
)

// BuildingTypes lists the valid types.
var BuildingTypes = []BuildingType{HighRise, MultiStorey, Villa, Commercial}

func init() {
	apperr.Register(map[string]apperr.Text{
		"community.bad_building_type": {ZH: "楼栋类型无效", EN: "is not a known building type"},
	})
}

// SetBuildingType sets a building's type: admins and the community's
// supervisors; staff of another community get NOT_FOUND, as for an unknown
// building. Bills already issued keep the rate they were computed with.
func (s *Service) SetBuildingType(ctx context.Context, c *access.Caller, buildingID string, t BuildingType) (*Building, error) {
	if err := validate.ID("buildingId", buildingID); err != nil {
		return nil, err
	}
	if !slices.Contains(BuildingTypes, t) {
		return nil, apperr.Invalid("type", "community.bad_building_type")
	}
	b, err := s.Building(ctx, buildingID)
	if err != nil {
		if errors.Is(err, ErrBuildingNotFound) {
			return nil, ErrBuildingNotFound.WithField("buildingId")
		}
		return nil, err
	}
	if !c.IsAdmin() && !c.WorksIn(b.CommunityID) {
		return nil, ErrBuildingNotFound.WithField("buildingId")
	}
	if !c.IsAdmin() && !c.SupervisesIn(b.CommunityID) {
		return nil, apperr.ErrForbidden
	}
	if _, err := s.buildings.UpdateByID(ctx, b.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "type", Value: t}}}}); err != nil {
		return nil, fmt.Errorf("set building type: %w", err)
	}
	b.Type = t
	return b, nil
}

// Zone returns a community's time zone without checking the caller (the
// calling service has checked the community).
func (s *Service) Zone(ctx context.Context, communityID string) (*Community, error) {
	return s.byID(ctx, communityID)
}
