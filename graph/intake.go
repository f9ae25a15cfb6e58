package graph

import (
	"qinqing/graph/model"
	"qinqing/internal/intake"
)

// intakeOf turns the intake argument of the filing mutations into the
// domain's input; nil stays nil (a resident filing in the app).
func intakeOf(in *model.IntakeInput) *intake.Input {
	if in == nil {
		return nil
	}
	return &intake.Input{Channel: in.Channel, PersonID: deref(in.PersonID)}
}
