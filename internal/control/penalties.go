package control

import (
	"context"
	"encoding/json"
	"errors"
)

// penalties_clear clears the penalties of many sources in one call: the
// console's "clear every source the filter shows". Each source is cleared
// as penalty_clear clears one (an event each, naming who); a source that
// has none any more is skipped and not counted. It lives here, beside the
// Client's side of it, and joins the command table as the package starts.
func init() {
	methods["penalties_clear"] = method{admin: true, params: `{"sources":[string]}`, call: clearPenalties}
}

type sourcesParams struct {
	Sources []string `json:"sources"`
}

type clearedResult struct {
	Cleared int `json:"cleared"`
}

func clearPenalties(c *conn, raw json.RawMessage) (any, error) {
	var p sourcesParams
	if !decodeParams(raw, &p) || len(p.Sources) == 0 {
		return nil, errBadParams
	}
	for _, s := range p.Sources {
		if s == "" {
			return nil, errBadParams
		}
	}
	n := 0
	for _, s := range p.Sources {
		err := c.s.d.ClearPenalty(s, c.by)
		var e *Error
		switch {
		case err == nil:
			n++
		case errors.As(err, &e) && e.Code == CodeNotFound:
		default:
			return nil, err
		}
	}
	return clearedResult{Cleared: n}, nil
}

// clearBatch bounds the sources sent in one penalties_clear call, so that
// the request stays well under MaxFrame.
const clearBatch = 32 << 10

// ClearPenalties clears the penalties of sources, as ClearPenalty each, and
// returns how many had one (admin). Sources without one are skipped. Many
// sources go in several calls.
func (c *Client) ClearPenalties(ctx context.Context, sources []string) (int, error) {
	n := 0
	for len(sources) > 0 {
		size, i := 0, 0
		for i < len(sources) && (i == 0 || size+len(sources[i])+8 <= clearBatch) {
			size += len(sources[i]) + 8 // quoted, escaped a little, a comma
			i++
		}
		var v clearedResult
		err := c.Call(ctx, "penalties_clear", sourcesParams{Sources: sources[:i]}, &v)
		n += v.Cleared
		if err != nil {
			return n, err
		}
		sources = sources[i:]
	}
	return n, nil
}
