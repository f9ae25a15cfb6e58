// Depth and complexity of one operation: the estimate that multiplies by
// list sizes, and the bounds it assumes for unpaged lists (see limits.go).

package graph

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"qinqing/internal/platform/apperr"
	"qinqing/internal/platform/page"
)

// listBounds declares how many items an unpaged list field can hold, for
// the complexity estimate: "Type.field" -> bound. Every list of objects
// outside a connection must be here (TestEveryListFieldHasABound); a list
// directly on a *Connection type counts 1, as the connection field already
// multiplies by its page size. Lists of scalars and enums are leaves and
// cost 1. A bound is a generous typical count (a household has a handful
// of members, a survey some 20 questions), not a hard cap: the estimate
// needs the order of magnitude to stop multiplying nestings. The hard caps
// of root lists are limits in their stores, stated in the schema; a nested
// list that grows past its bound is still held by the response size and
// time caps.
var listBounds = map[string]int{
	"Query.inspectionTemplates":          11,
	"InspectionTemplate.items":           20,
	"Inspection.results":                 20,
	"CorrectiveTask.rechecks":            5,
	"CorrectiveTask.timeline":            10,
	"Query.inspectionScores":             12,
	"InspectionScoreSeries.points":       13,
	"Query.dueInspections":               100,
	"Query.communities":                  50,
	"Query.myHouseholds":                 10,
	"Query.householdInvitations":         20,
	"Query.myInvitations":                10,
	"Query.campaignSlots":                50,
	"Query.festivalCalendar":             30,
	"Query.festivalSettings":             30,
	"Query.engineers":                    50,
	"Query.repairDeadlines":              10,
	"Query.serviceCatalog":               50,
	"Query.serviceOrderCounts":           20,
	"Mutation.updateFestivalSettings":    30,
	"Mutation.setRepairDeadlines":        10,
	"Mutation.recordWechatSubscription":  20,
	"Me.communities":                     50,
	"Me.memberships":                     10,
	"Person.memberships":                 10,
	"Household.members":                  10,
	"Call.candidates":                    10,
	"CallSummary.ringCounts":             60,
	"CallSummary.byOutcome":              10,
	"FiledByChannelKpis.byChannel":       5,
	"FiledByChannelKpis.byKind":          6,
	"FiledKindKpis.byChannel":            5,
	"Community.buildings":                50,
	"Staff.communities":                  50,
	"Staff.buildings":                    50,
	"CommunityEvent.buildings":           50,
	"CommunityEvent.mySignUps":           10,
	"CommunityEvent.timeline":            30,
	"EventSignUp.timeline":               30,
	"EventAttendance.signUps":            200,
	"EventAttendance.noShows":            200,
	"EventAttendance.waitingList":        200,
	"EventAttendance.ratings":            5,
	"EventAttendance.feedback":           200,
	"ServiceCampaign.buildings":          50,
	"ServiceCampaign.myVisits":           10,
	"CampaignVisit.timeline":             30,
	"CampaignCoverage.counts":            10,
	"CampaignCoverage.edges":             100,
	"Complaint.replies":                  30,
	"Complaint.callbacks":                10,
	"Complaint.timeline":                 30,
	"Complaint.concerns":                 5, // complaint.MaxConcerns
	"Enquiry.callbacks":                  10,
	"Enquiry.timeline":                   30,
	"Enquiry.staffNotes":                 10,
	"DunningCase.records":                40, // a step a week at most, closed when paid
	"DunningNotice.periods":              60, // overdue months of one household
	"Query.feeReliefs":                   100,
	"ServiceKpis.feeCollection":          13,
	"IncidentKpis.byType":                6,
	"FeeCollection.byBuilding":           200, // buildings of a community
	"FaqStats.mostRead":                  50,
	"FaqStats.unansweredQuestions":       50,
	"MoveBooking.timeline":               30,
	"Equipment.serves":                   20,
	"MaintenanceOrder.results":           50,
	"MaintenanceOrder.timeline":          10,
	"WorkWindows.windows":                14,
	"Notification.data":                  20,
	"DeliveryReport.byChannel":           10,
	"Renovation.workers":                 30,
	"Renovation.reviews":                 20,
	"Renovation.inspections":             20,
	"Renovation.extensions":              10,
	"Renovation.timeline":                30,
	"RepairRequest.workOrders":           10,
	"RepairRequest.acceptances":          10,
	"RepairRequest.callbacks":            10,
	"RepairRequest.timeline":             30,
	"PublicRepair.progress":              30,
	"WorkOrder.materials":                20,
	"WorkOrderCounts.byStatus":           10,
	"ServiceItem.windows":                20,
	"ServiceItem.priceHistory":           30,
	"Laundry.items":                      30,
	"ServiceOrder.extras":                20,
	"ServiceOrder.timeline":              30,
	"Survey.buildings":                   50,
	"Survey.questions":                   20,
	"Survey.timeline":                    30,
	"SurveyResponse.answers":             20,
	"SurveyResults.dimensions":           20,
	"SurveyResults.questions":            20,
	"SurveyDimensionResult.importance":   5,
	"SurveyDimensionResult.satisfaction": 5,
	"SurveyQuestionResult.options":       20,
	"SurveyQuestionResult.ratings":       5,
	"SurveyQuestionResult.textAnswers":   50,
	// Every category once; every version of a period (finance.MaxVersions).
	"FinanceStatement.lines":    12,
	"FinanceStatement.versions": 50,
}

// unknownListBound is used for a list missing from listBounds (a test
// fails first); it is the page maximum, so an omission errs on the safe side.
const unknownListBound = page.MaxFirst

// queryLimits is the gqlgen extension that refuses an operation deeper or
// costlier than the limits, after validation and before any resolver runs.
type queryLimits struct{ l Limits }

func (queryLimits) ExtensionName() string                          { return "QueryLimits" }
func (queryLimits) Validate(schema graphql.ExecutableSchema) error { return nil }

func (q queryLimits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &walker{vars: oc.Variables, limit: q.l.MaxComplexity}
	if w.tooDeep(oc.Operation.SelectionSet, 1, q.l.MaxDepth) {
		if w.visits > maxVisits {
			return limitError(ErrQueryTooComplex.WithArgs(q.l.MaxComplexity))
		}
		return limitError(ErrQueryTooDeep.WithArgs(q.l.MaxDepth))
	}
	w.visits = 0
	if c := w.cost(oc.Operation.SelectionSet, false); c > q.l.MaxComplexity {
		return limitError(ErrQueryTooComplex.WithArgs(q.l.MaxComplexity))
	}
	return nil
}

// limitError carries ae through gqlgen to the error presenter, which maps it.
func limitError(ae *apperr.Error) *gqlerror.Error {
	return &gqlerror.Error{Message: ae.Error(), Err: ae}
}

// walker walks an operation with fragments expanded, counting every field
// it visits so that no query, however its fragments nest, makes it work
// more than maxVisits steps (gqlparser already refuses fragment cycles).
type walker struct {
	vars   map[string]any
	limit  int
	visits int
}

// fields calls fn for every field of set, expanding fragments, until fn
// returns false or the visits run out; it reports whether it went through.
func (w *walker) fields(set ast.SelectionSet, fn func(*ast.Field) bool) bool {
	for _, s := range set {
		w.visits++
		if w.visits > maxVisits {
			return false
		}
		switch s := s.(type) {
		case *ast.Field:
			if !fn(s) {
				return false
			}
		case *ast.InlineFragment:
			if !w.fields(s.SelectionSet, fn) {
				return false
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && !w.fields(s.Definition.SelectionSet, fn) {
				return false
			}
		}
	}
	return true
}

// introspective fields (__schema, __type) are exempt: they read the
// in-memory schema, are off in production, and gqlparser's
// MaxIntrospectionDepth rule bounds their nesting.
func introspective(f *ast.Field) bool { return strings.HasPrefix(f.Name, "__") }

// tooDeep reports whether a field in set lies deeper than max (set's own
// fields are at depth), or the walk ran out of visits.
func (w *walker) tooDeep(set ast.SelectionSet, depth, max int) bool {
	deep := false
	ok := w.fields(set, func(f *ast.Field) bool {
		if introspective(f) {
			return true
		}
		if depth > max || w.tooDeep(f.SelectionSet, depth+1, max) {
			deep = true
			return false
		}
		return true
	})
	return deep || !ok
}

// cost estimates set's cost; it stops counting just above the limit, so
// the numbers never overflow and the walk ends early.
func (w *walker) cost(set ast.SelectionSet, onConnection bool) int {
	over := w.limit + 1
	total := 0
	ok := w.fields(set, func(f *ast.Field) bool {
		if introspective(f) || f.Definition == nil {
			return true
		}
		n, conn := w.size(f, onConnection)
		c := 1
		if len(f.SelectionSet) > 0 && n > 0 {
			child := w.cost(f.SelectionSet, conn)
			// A selection of only __typename costs nothing below f.
			if child >= over || (child > 0 && n >= over/child+1) {
				c = over
			} else {
				c += n * child
			}
		}
		total += c
		if total >= over {
			total = over
			return false
		}
		return true
	})
	if !ok {
		return over
	}
	return total
}

// size is how many times f's selection runs, and whether f is a connection
// (so its own list fields count once).
func (w *walker) size(f *ast.Field, onConnection bool) (n int, conn bool) {
	t := f.Definition.Type
	if strings.HasSuffix(t.Name(), "Connection") && t.Elem == nil {
		n = page.MaxFirst
		args := f.ArgumentMap(w.vars)
		for _, name := range []string{"first", "last"} {
			if v, ok := args[name]; ok && v != nil {
				if i, ok := toInt(v); ok && i >= 0 && i < n {
					n = i
				}
				break
			}
		}
		return n, true
	}
	if t.Elem == nil {
		return 1, false
	}
	if onConnection {
		return 1, false
	}
	if b, ok := listBounds[f.ObjectDefinition.Name+"."+f.Name]; ok {
		return b, false
	}
	return unknownListBound, false
}

func toInt(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		i, err := v.Int64()
		return int(i), err == nil
	}
	return 0, false
}
