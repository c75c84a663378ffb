package bench

import (
	"slices"
	"strings"
	"testing"
)

func TestScenario(t *testing.T) {
	sc := Scenario{Name: "t", Symbols: 3, Topics: []string{"orderbook.50", "tickers"}, Rate: "max"}
	if got := sc.SymbolNames(); !slices.Equal(got, []string{"S0001USDT", "S0002USDT", "S0003USDT"}) {
		t.Errorf("SymbolNames: got %v", got)
	}
	if got := sc.TopicNames(); len(got) != 6 || got[0] != "orderbook.50.S0001USDT" || got[5] != "tickers.S0003USDT" {
		t.Errorf("TopicNames: got %v", got)
	}
	if got, want := strings.Join(sc.ReplayArgs("f.ndjson"), " "),
		"replay --category linear --symbols S0001USDT,S0002USDT,S0003USDT --topics orderbook.50,tickers f.ndjson"; got != want {
		t.Errorf("ReplayArgs: got %q; want %q", got, want)
	}
	if rc := sc.ReplayConfig(); len(rc.Symbols) != 3 || len(rc.Topics) != 2 || rc.Category != Category {
		t.Errorf("ReplayConfig: got %+v", rc)
	}
	if got := sc.WithRate("mixed"); got.Rate != "mixed" || sc.Rate != "max" {
		t.Errorf("WithRate: got %q, original %q; want mixed, max", got.Rate, sc.Rate)
	}
	if got := sc.String(); got != "t/max" {
		t.Errorf("String: got %q; want t/max", got)
	}
}

func TestScenarioSimConfig(t *testing.T) {
	f := func(sc Scenario, wantErr bool) {
		t.Helper()
		cfg, err := sc.SimConfig(9)
		if (err != nil) != wantErr {
			t.Errorf("%+v: got err %v; want error %v", sc, err, wantErr)
		}
		if err == nil && (cfg.Seed != 9 || len(cfg.Instruments) != sc.Symbols) {
			t.Errorf("%+v: got seed %d, %d instruments", sc, cfg.Seed, len(cfg.Instruments))
		}
	}
	f(Book50x8, false)
	f(Book50x8.WithRate("100000"), false)
	f(Book50x8.WithRate("fast"), true)
	f(Scenario{Name: "none", Rate: "max"}, true)
}

func TestScenarioByName(t *testing.T) {
	for _, sc := range Scenarios() {
		got, ok := ScenarioByName(sc.Name)
		if !ok || got.Name != sc.Name || got.Rate != sc.Rate {
			t.Errorf("ScenarioByName(%q): got %v, %v", sc.Name, got, ok)
		}
	}
	if _, ok := ScenarioByName("nope"); ok {
		t.Error(`ScenarioByName("nope"): got ok; want not found`)
	}
}
