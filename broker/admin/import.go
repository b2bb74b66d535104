package admin

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/oauth2broker/oauth2broker/broker/events"
	"github.com/oauth2broker/oauth2broker/broker/protocol"
	"github.com/oauth2broker/oauth2broker/storage"
)

// ImportRoute is the route of the token import. Its body is a stream
// larger than the router's body limit: the import bounds it itself
// (MaxImportLine per line, maxImportBytes in all).
const ImportRoute = "/admin/v1/apis/:api/connections/import"

// MaxImportLine bounds one line of a token import, newline included.
const MaxImportLine = 64 << 10

// maxImportBytes bounds a whole token import.
const maxImportBytes = 4 << 30

// Import results, per line.
const (
	ImportImported = "imported"
	ImportReplaced = "replaced"
	ImportRefused  = "refused"
)

// importResult is the answer to one line. It never holds a token.
type importResult struct {
	Line         int    `json:"line"`
	Result       string `json:"result"`
	Reason       string `json:"reason,omitempty"`
	ConnectionID string `json:"connection_id,omitempty"`
	ClientID     string `json:"client_id,omitempty"`
	Identity     string `json:"client_user_identity,omitempty"`
	Provider     string `json:"provider,omitempty"`
}

// importSummary is the last line of the answer.
type importSummary struct {
	Lines    int `json:"lines"`
	Imported int `json:"imported"`
	Replaced int `json:"replaced"`
	Refused  int `json:"refused"`
	// Error says why the import stopped before the end of the body.
	Error string `json:"error,omitempty"`
}

// maxCached bounds the clients and providers an import remembers.
const maxCached = 4096

// importer runs one token import.
type importer struct {
	s      *API
	c      *gin.Context
	api    storage.API
	out    *json.Encoder
	rc     *http.ResponseController
	sum    importSummary
	checks map[string]string // "client\x00id" or "provider\x00name" → refusal reason, "" when fine
	flush  time.Time         // the last flush and deadline extension
}

// importConnections takes newline-delimited JSON grants (importLine) and
// answers newline-delimited JSON as it goes: one importResult per
// non-blank line, then {"summary":…}. A refused line changes nothing and
// stops nothing; each accepted line is one store write, sealed like a
// connection made by the flow.
func (s *API) importConnections(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	_ = rc.EnableFullDuplex() // answer while the body streams in (HTTP/1.1)
	imp := &importer{s: s, c: c, api: currentAPI(c), out: json.NewEncoder(c.Writer), rc: rc, checks: map[string]string{}}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	imp.keepAlive(true)
	imp.run(bufio.NewReaderSize(http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBytes), MaxImportLine))
	_ = imp.out.Encode(map[string]any{"summary": imp.sum})
	imp.keepAlive(true)
	sum := imp.sum
	s.logger(c).Info("connections imported", "api", imp.api.Name, "lines", sum.Lines, "imported", sum.Imported,
		"replaced", sum.Replaced, "refused", sum.Refused, "stopped", sum.Error != "")
	s.events.Emit(c, events.Event{API: imp.api.Name, Actor: actor(c), Type: "connections.import", Details: map[string]string{
		"imported": strconv.Itoa(sum.Imported), "replaced": strconv.Itoa(sum.Replaced), "refused": strconv.Itoa(sum.Refused),
	}})
}

// run answers each line of r until its end or a read error.
func (imp *importer) run(r *bufio.Reader) {
	for n := 1; ; n++ {
		raw, tooLong, err := readImportLine(r)
		if tooLong {
			imp.answer(importResult{Line: n, Result: ImportRefused, Reason: "line longer than " + strconv.Itoa(MaxImportLine) + " bytes"})
		} else if len(trimSpace(raw)) > 0 {
			imp.answer(imp.line(n, raw))
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			imp.sum.Error = "the body could not be read after line " + strconv.Itoa(n-1) + ": the rest was not imported"
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				imp.sum.Error = "the body is larger than " + strconv.Itoa(maxImportBytes>>30) + " GiB: the lines after " + strconv.Itoa(n-1) + " were not imported"
			}
			return
		}
		// Before a read that may wait for the client, send what is
		// answered: the client sees each result as soon as it can.
		imp.keepAlive(r.Buffered() == 0)
	}
}

// readImportLine reads one line. A line longer than the reader's buffer
// is skipped to its end and reported as tooLong.
func readImportLine(r *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, false, err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.ReadSlice('\n')
	}
	return nil, true, err
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// line imports one line and says how it went.
func (imp *importer) line(n int, raw []byte) importResult {
	res := importResult{Line: n, Result: ImportRefused}
	in, err := parseImportLine(raw)
	res.ClientID, res.Identity, res.Provider = in.ClientID, in.Identity, in.Provider
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	if res.Reason = imp.refers(in); res.Reason != "" {
		return res
	}
	ts, err := in.tokenSet(imp.s.now())
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	conn, replaced, err := imp.s.conns.Put(imp.c, imp.api, in.ClientID, in.Identity, in.Provider, ts)
	if err != nil {
		imp.s.logger(imp.c).Error("import: connection not stored", "api", imp.api.Name, "line", n, "err", err)
		res.Reason = "the connection could not be stored; import this line again"
		return res
	}
	res.Result, res.ConnectionID = ImportImported, conn.ID
	if replaced {
		res.Result = ImportReplaced
	}
	ev := events.ConnectionEvent("connection.imported", conn)
	ev.Actor = actor(imp.c)
	imp.s.events.Emit(imp.c, ev)
	return res
}

// refers checks that the line's client (with the connection grant) and
// provider are the API's, remembering the answers.
func (imp *importer) refers(in importLine) string {
	if reason := imp.cached("client\x00"+in.ClientID, func() (string, error) {
		cl, err := imp.s.store.GetClient(imp.c, imp.api.Name, in.ClientID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			return "client_id is not a client of this API", nil
		case err == nil && !slices.Contains(cl.GrantTypes, protocol.GrantConnectionShort):
			return "the client does not have the connection grant", nil
		}
		return "", err
	}); reason != "" {
		return reason
	}
	return imp.cached("provider\x00"+in.Provider, func() (string, error) {
		_, err := imp.s.store.GetProvider(imp.c, imp.api.Name, in.Provider)
		if errors.Is(err, storage.ErrNotFound) {
			return "provider is not a provider of this API", nil
		}
		return "", err
	})
}

// cached answers check's reason for key, from memory when it was asked
// before; a store failure is a reason and is not remembered.
func (imp *importer) cached(key string, check func() (string, error)) string {
	if reason, ok := imp.checks[key]; ok {
		return reason
	}
	reason, err := check()
	if err != nil {
		imp.s.logger(imp.c).Error("import: lookup failed", "api", imp.api.Name, "err", err)
		return "the store could not be read; import this line again"
	}
	if len(imp.checks) < maxCached {
		imp.checks[key] = reason
	}
	return reason
}

// answer writes one line's result and counts it.
func (imp *importer) answer(r importResult) {
	imp.sum.Lines++
	switch r.Result {
	case ImportImported:
		imp.sum.Imported++
	case ImportReplaced:
		imp.sum.Replaced++
	default:
		imp.sum.Refused++
	}
	_ = imp.out.Encode(r)
}

// keepAlive flushes the answer and moves the connection's deadlines on,
// at most every 200ms unless now: an import may outlast the server's
// read and write timeouts, as long as it keeps moving.
func (imp *importer) keepAlive(now bool) {
	t := time.Now()
	if !now && t.Sub(imp.flush) < 200*time.Millisecond {
		return
	}
	imp.flush = t
	_ = imp.rc.SetReadDeadline(t.Add(time.Minute))
	_ = imp.rc.SetWriteDeadline(t.Add(time.Minute))
	_ = imp.rc.Flush()
}
