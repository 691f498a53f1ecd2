package health

import (
	"bytes"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := New()
	r.Set("sip", OK, "registered")
	r.Set("modem", Disabled, "no modem")
	r.AddSource("line", func() []Metric {
		return []Metric{
			{Name: "counterdesk_sip_calls_total", Type: "counter", Help: "Calls by outcome.", Labels: map[string]string{"outcome": "voicemail"}, Value: 3},
			{Name: "counterdesk_sip_calls_total", Type: "counter", Help: "Calls by outcome.", Labels: map[string]string{"outcome": "missed"}, Value: 12},
			{Name: "counterdesk_odd", Help: "A \\ help\nline.", Labels: map[string]string{"v": "a \"q\" \\ \n"}, Value: 0.5},
		}
	})
	var b bytes.Buffer
	if err := WriteText(&b, r.Metrics()); err != nil {
		t.Fatal(err)
	}
	want := `# HELP counterdesk_odd A \\ help\nline.
# TYPE counterdesk_odd gauge
counterdesk_odd{v="a \"q\" \\ \n"} 0.5
# HELP counterdesk_sip_calls_total Calls by outcome.
# TYPE counterdesk_sip_calls_total counter
counterdesk_sip_calls_total{outcome="missed"} 12
counterdesk_sip_calls_total{outcome="voicemail"} 3
# HELP counterdesk_subsystem_state 1 for the state each subsystem is in (ok, degraded, down, disabled), 0 for the others.
# TYPE counterdesk_subsystem_state gauge
counterdesk_subsystem_state{state="degraded",subsystem="modem"} 0
counterdesk_subsystem_state{state="degraded",subsystem="sip"} 0
counterdesk_subsystem_state{state="disabled",subsystem="modem"} 1
counterdesk_subsystem_state{state="disabled",subsystem="sip"} 0
counterdesk_subsystem_state{state="down",subsystem="modem"} 0
counterdesk_subsystem_state{state="down",subsystem="sip"} 0
counterdesk_subsystem_state{state="ok",subsystem="modem"} 0
counterdesk_subsystem_state{state="ok",subsystem="sip"} 1
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteTextHistogram(t *testing.T) {
	h := "Latency."
	ms := []Metric{
		{Name: "x_seconds_count", Type: "histogram", Help: h, Value: 3},
		{Name: "x_seconds_bucket", Type: "histogram", Help: h, Labels: map[string]string{"le": "+Inf"}, Value: 3},
		{Name: "x_seconds_bucket", Type: "histogram", Help: h, Labels: map[string]string{"le": "0.5"}, Value: 2},
		{Name: "x_seconds_sum", Type: "histogram", Help: h, Value: 1.25},
		{Name: "x_seconds_bucket", Type: "histogram", Help: h, Labels: map[string]string{"le": "0.05"}, Value: 1},
	}
	var b bytes.Buffer
	if err := WriteText(&b, ms); err != nil {
		t.Fatal(err)
	}
	want := `# HELP x_seconds Latency.
# TYPE x_seconds histogram
x_seconds_bucket{le="0.05"} 1
x_seconds_bucket{le="0.5"} 2
x_seconds_bucket{le="+Inf"} 3
x_seconds_sum 1.25
x_seconds_count 3
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
