package graph

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"qinqing/graph/model"
	"qinqing/internal/activity"
	"qinqing/internal/catalog"
	"qinqing/internal/complaint"
	"qinqing/internal/freeservice"
	"qinqing/internal/incident"
	"qinqing/internal/inspection"
	"qinqing/internal/moving"
	"qinqing/internal/platform/lifecycle"
	"qinqing/internal/renovation"
	"qinqing/internal/repair"
	"qinqing/internal/serviceorder"
	"qinqing/internal/survey"
)

// The values the domains can store are read from their code, not listed
// here: a new step, event or audit action without its enum value fails.

func TestEveryTimelineActionHasAnEnumValue(t *testing.T) {
	stored := map[string]bool{}
	for _, keys := range [][]string{keysOf(repair.Machine), keysOf(complaint.Machine), keysOf(serviceorder.Machine),
		keysOf(renovation.Machine), keysOf(activity.Machine), keysOf(activity.SignUpMachine), keysOf(moving.Machine),
		keysOf(freeservice.Machine), keysOf(survey.Machine), keysOf(catalog.Machine), keysOf(inspection.Machine), keysOf(incident.Machine)} {
		for _, k := range keys {
			stored[k] = true
		}
	}
	// Steps outside the machines: a thing's first line ("submit", "book") and
	// steps the server takes ("moved", "end") are literal Action fields.
	for _, pkg := range parseDomains(t) {
		// archive: its Action is the audit log's, below; dunning: a case's
		// timeline is not served (DunningCase.records is its history).
		if pkg.name == "archive" || pkg.name == "dunning" {
			continue
		}
		for _, lit := range pkg.actionLiterals {
			stored[lit] = true
		}
	}
	for _, want := range []string{"submit", "dispatch", "sign_up", "moved", "grant"} {
		if !stored[want] {
			t.Fatalf("the scan of the domain code missed %q: it no longer finds what it should", want)
		}
	}
	checkEnum(t, stored, model.AllTimelineAction, model.TimelineActionOther)
}

func TestEveryEventTypeHasAnEnumValue(t *testing.T) {
	household, repairTypes := map[string]bool{}, map[string]bool{}
	for _, pkg := range parseDomains(t) {
		for typ, toHousehold := range pkg.eventTypes {
			if toHousehold {
				household[typ] = true
			}
			if strings.HasPrefix(typ, "repair.") {
				repairTypes[typ] = true
			}
		}
	}
	for _, want := range []string{"repair.submit", "repair.callback_reopen", "household.member_added", "serviceorder.grant", "activity.signed_up"} {
		if !household[want] {
			t.Fatalf("the scan of the domain code missed %q: it no longer finds what it should", want)
		}
	}
	if household["activity.created"] || household["complaint.submit"] {
		t.Fatal("the scan counts events without a household as household events")
	}
	checkEnum(t, household, model.AllHouseholdEventType, model.HouseholdEventTypeOther)
	checkEnum(t, repairTypes, model.AllRepairEventType, model.RepairEventTypeOther)
}

func TestEveryAuditActionHasAnEnumValue(t *testing.T) {
	stored := map[string]bool{}
	for _, pkg := range parseDomains(t) {
		if pkg.name == "archive" {
			for _, lit := range pkg.actionLiterals {
				stored[lit] = true
			}
		}
	}
	if !stored["read"] || !stored["audience"] {
		t.Fatalf("the scan of internal/archive found %v", stored)
	}
	checkEnum(t, stored, model.AllAuditAction, model.AuditActionOther)
}

func TestUnknownStoredValueIsOther(t *testing.T) {
	if got := enumOf("made_up_step", model.TimelineActionOther); got != model.TimelineActionOther {
		t.Fatalf("got %q", got)
	}
	if got := enumOf("repair.hand_over", model.RepairEventTypeOther); got != model.RepairEventTypeRepairHandOver {
		t.Fatalf("got %q", got)
	}
}

// checkEnum wants every stored value to map to its own enum value, and every
// enum value but OTHER to be one the code stores (no stale values).
func checkEnum[T storedEnum](t *testing.T, stored map[string]bool, all []T, other T) {
	t.Helper()
	mapped := map[T]string{}
	for _, s := range slices.Sorted(maps.Keys(stored)) {
		v := enumOf(s, other)
		if v == other {
			t.Errorf("%q has no %T value", s, other)
			continue
		}
		if prev, ok := mapped[v]; ok {
			t.Errorf("%q and %q both map to %s", prev, s, v)
		}
		mapped[v] = s
	}
	for _, v := range all {
		if _, ok := mapped[v]; !ok && v != other {
			t.Errorf("%T value %s is not stored by any domain", other, v)
		}
	}
}

func keysOf[S ~string](m lifecycle.Machine[S]) []string { return slices.Collect(maps.Keys(m)) }

// domainCode is what one package's source says it stores.
type domainCode struct {
	name string
	// actionLiterals are string literals given to an Action field (of a
	// timeline entry, a step, an audit entry) or assigned to one.
	actionLiterals []string
	// eventTypes are the event types it publishes, true for those that name
	// a household (and so reach householdUpdated).
	eventTypes map[string]bool
}

func parseDomains(t *testing.T) []domainCode {
	t.Helper()
	dirs, err := filepath.Glob("../internal/*")
	if err != nil {
		t.Fatal(err)
	}
	dirs = append(dirs, ".")
	var out []domainCode
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", dir, err)
		}
		for _, p := range pkgs {
			out = append(out, scan(p))
		}
	}
	return out
}

func scan(p *ast.Package) domainCode {
	d := domainCode{name: p.Name, eventTypes: map[string]bool{}}
	var machineKeys []string
	// The package's publish: the parameter its event type is built from,
	// and the one its household id comes from.
	var prefix, typeParam string
	typeArg, householdArg, namesHousehold := -1, -1, false
	for _, f := range p.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if isMachine(n.Type) {
					for _, e := range n.Elts {
						if s, ok := strLit(e.(*ast.KeyValueExpr).Key); ok {
							machineKeys = append(machineKeys, s)
						}
					}
				}
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Event" {
					typ, hh := field(n, "Type"), field(n, "HouseholdID")
					if s, ok := strLit(typ); ok {
						d.eventTypes[s] = d.eventTypes[s] || hh != nil
					} else if b, ok := typ.(*ast.BinaryExpr); ok {
						if s, ok := strLit(b.X); ok {
							if id, ok := b.Y.(*ast.Ident); ok {
								prefix, typeParam, namesHousehold = s, id.Name, hh != nil
							}
						}
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Action" || k.Name == "action") {
					if s, ok := strLit(n.Value); ok {
						d.actionLiterals = append(d.actionLiterals, s)
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if sel, ok := l.(*ast.SelectorExpr); ok && sel.Sel.Name == "Action" && i < len(n.Rhs) {
						if s, ok := strLit(n.Rhs[i]); ok {
							d.actionLiterals = append(d.actionLiterals, s)
						}
					}
				}
			}
			return true
		})
	}
	for _, f := range p.Files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "publish" || fn.Recv == nil || typeParam == "" {
				continue
			}
			i := 0
			for _, fld := range fn.Type.Params.List {
				for _, nm := range fld.Names {
					switch nm.Name {
					case typeParam:
						typeArg = i
					case "householdID":
						householdArg = i
					}
					i++
				}
			}
		}
	}
	for _, f := range p.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch {
			case p.Name == "graph" && slices.Contains([]string{"publish", "publishIDs", "publishPerson"}, sel.Sel.Name):
				// The resolvers' household events: the type is the last argument.
				if s, ok := strLit(call.Args[len(call.Args)-1]); ok {
					d.eventTypes[s] = true
				}
			case sel.Sel.Name == "publish" && typeArg >= 0 && typeArg < len(call.Args):
				toHousehold := namesHousehold
				if householdArg >= 0 {
					if s, ok := strLit(call.Args[householdArg]); ok && s == "" {
						toHousehold = false
					}
				}
				switch a := call.Args[typeArg].(type) {
				case *ast.SelectorExpr: // a step's action: any key of the machine
					for _, k := range machineKeys {
						d.eventTypes[prefix+k] = d.eventTypes[prefix+k] || toHousehold
					}
				default:
					if s, ok := strLit(a); ok {
						d.eventTypes[prefix+s] = d.eventTypes[prefix+s] || toHousehold
					}
				}
			}
			return true
		})
	}
	return d
}

func isMachine(e ast.Expr) bool {
	ix, ok := e.(*ast.IndexExpr)
	if !ok {
		return false
	}
	sel, ok := ix.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Machine"
}

func field(c *ast.CompositeLit, name string) ast.Expr {
	for _, e := range c.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == name {
				return kv.Value
			}
		}
	}
	return nil
}

func strLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}
