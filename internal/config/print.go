package config

import (
	"fmt"
	"io"
	"reflect"
	"strconv"

	"popd/internal/human"
)

// Write prints c as a TOML file that Load reads back to the same settings,
// by group like --help: the settings that differ from the defaults (as
// doveconf -n does), or every one with all.
func (c Config) Write(w io.Writer, all bool) {
	mine, defaults := c.values(), Default().values()
	for _, g := range Groups {
		header := false
		for _, key := range g.Flags {
			v, ok := mine[key]
			if !ok || (!all && v == defaults[key]) {
				continue
			}
			if !header {
				fmt.Fprintf(w, "# %s\n", g.Name)
				header = true
			}
			fmt.Fprintf(w, "%s = %s\n", key, v)
		}
	}
}

// values maps each TOML key to its value in TOML syntax.
func (c Config) values() map[string]string {
	out := map[string]string{}
	for _, v := range []reflect.Value{reflect.ValueOf(c.Static), reflect.ValueOf(c.Live)} {
		for i := range v.NumField() {
			out[v.Type().Field(i).Tag.Get("toml")] = tomlValue(v.Field(i).Interface())
		}
	}
	return out
}

func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case Duration:
		return strconv.Quote(human.Setting(v.Duration))
	default:
		return fmt.Sprint(v)
	}
}
