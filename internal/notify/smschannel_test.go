package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"qinqing/internal/platform/sms"
)

// phoneBook stands in for the household register's phone lookup.
type phoneBook map[string]string

func (p phoneBook) PhonesOf(_ context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for _, id := range ids {
		if ph, ok := p[id]; ok {
			out[id] = ph
		}
	}
	return out, nil
}

// The mini program reaches a user only with the kinds whose template is
// configured and for which they hold a grant: SMS is suppressed for exactly
// those, so a mini-program user still gets by text the progress the mini
// program cannot carry (here: service orders, which have no template).
func TestSMSSuppressedOnlyWhereTheMiniProgramDelivers(t *testing.T) {
	fx := newWechatFixture(t)
	fx.accept(t, "granted", map[string]bool{tplProgress: true})
	var mu sync.Mutex
	texts := map[string]int{}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ Phone string }
		_ = json.NewDecoder(r.Body).Decode(&m)
		mu.Lock()
		texts[m.Phone]++
		mu.Unlock()
	}))
	t.Cleanup(gw.Close)
	ch := &SMS{Sender: sms.HTTPSender{BaseURL: gw.URL}, Phones: phoneBook{"granted": "13800000001", "plain": "13800000002"},
		Devices: NewDevices(fx.db, time.Now), Grants: fx.w.WechatGrants, Templates: fx.w.templates}
	res := ch.Send(context.Background(), []Outgoing{
		wxOut("repair-granted", "granted", RepairProgress),
		wxOut("order-granted", "granted", ServiceOrderUpdate),
		wxOut("repair-plain", "plain", RepairProgress),
	})
	wantStatus(t, res, map[string]string{"repair-granted": StatusSuppressed, "order-granted": StatusSent, "repair-plain": StatusSent})
	if texts["13800000001"] != 1 || texts["13800000002"] != 1 {
		t.Fatalf("texts = %v", texts)
	}
}
