package control

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MetricsHandler serves d's counters in the Prometheus text exposition
// format, version 0.0.4:
//
//	popd_sessions              gauge    live POP3 sessions
//	popd_logins_total          counter  successful logins since start
//	popd_login_failures_total  counter  failed logins since start
//	popd_bytes_sent_total      counter  message octets sent (RETR, TOP) since start
//	popd_uptime_seconds        gauge    seconds since popd started
//	popd_build_info{version}   gauge    always 1
func MetricsHandler(d Daemon) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		st := d.Stats()
		var b strings.Builder
		metric := func(name, typ, help, labels, value string) {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %s\n", name, help, name, typ, name, labels, value)
		}
		metric("popd_sessions", "gauge", "Live POP3 sessions.", "", strconv.Itoa(st.Sessions))
		metric("popd_logins_total", "counter", "Successful logins since popd started.", "", strconv.FormatInt(st.Logins, 10))
		metric("popd_login_failures_total", "counter", "Failed logins since popd started.", "", strconv.FormatInt(st.Failures, 10))
		metric("popd_bytes_sent_total", "counter", "Message octets sent to POP3 clients (RETR and TOP) since popd started.", "", strconv.FormatInt(st.BytesSent, 10))
		metric("popd_uptime_seconds", "gauge", "Seconds since popd started.", "", strconv.FormatFloat(st.Uptime.Seconds(), 'f', -1, 64))
		metric("popd_build_info", "gauge", "popd's version, as a label; always 1.", `{version="`+labelValue(st.Version)+`"}`, "1")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if r.Method == http.MethodGet {
			w.Write([]byte(b.String()))
		}
	})
}

// labelValue escapes a label value: backslash, double quote and newline.
func labelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
