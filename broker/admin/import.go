package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
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

// importWorkers is how many lines an import stores at once: concurrent
// writes share a transaction and its fsync on bbolt (Batch), and go out
// side by side to etcd. Lines of one (client, identity, provider) go to
// one worker, in file order, so the later line wins.
const importWorkers = 8

// importer runs one token import.
type importer struct {
	s     *API
	ctx   context.Context
	log   *slog.Logger
	actor string
	api   storage.API
	out   *json.Encoder
	rc    *http.ResponseController
	sum   importSummary

	mu     sync.Mutex
	checks map[string]string // "client\x00id" or "provider\x00name" → refusal reason, "" when fine
}

// importJob is a parsed line for a worker.
type importJob struct {
	n  int
	in importLine
}

// importConnections takes newline-delimited JSON grants (importLine) and
// answers newline-delimited JSON as it goes: one importResult per
// non-blank line, then {"summary":…}. A refused line changes nothing and
// stops nothing; each accepted line is one store write, sealed like a
// connection made by the flow. Results come in the order lines are
// done, each with its line number.
func (s *API) importConnections(c *gin.Context) {
	rc := http.NewResponseController(c.Writer)
	_ = rc.EnableFullDuplex() // answer while the body streams in (HTTP/1.1)
	imp := &importer{s: s, ctx: c.Request.Context(), log: s.logger(c), actor: actor(c), api: currentAPI(c),
		out: json.NewEncoder(c.Writer), rc: rc, checks: map[string]string{}}
	h := c.Writer.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	imp.flush()
	imp.run(bufio.NewReaderSize(http.MaxBytesReader(c.Writer, c.Request.Body, maxImportBytes), MaxImportLine))
	_ = imp.out.Encode(map[string]any{"summary": imp.sum})
	imp.flush()
	sum := imp.sum
	imp.log.Info("connections imported", "api", imp.api.Name, "lines", sum.Lines, "imported", sum.Imported,
		"replaced", sum.Replaced, "refused", sum.Refused, "stopped", sum.Error != "")
	s.events.Emit(imp.ctx, events.Event{API: imp.api.Name, Actor: imp.actor, Type: "connections.import", Details: map[string]string{
		"imported": strconv.Itoa(sum.Imported), "replaced": strconv.Itoa(sum.Replaced), "refused": strconv.Itoa(sum.Refused),
	}})
}

// run reads r to its end with the workers and the answer's writer.
func (imp *importer) run(r *bufio.Reader) {
	results := make(chan importResult, 4*importWorkers)
	queues := make([]chan importJob, importWorkers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan importJob, 16)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queues[i] {
				results <- imp.line(j)
			}
		}()
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		imp.write(results)
	}()
	stopped := imp.read(r, queues, results)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	close(results)
	<-written
	imp.sum.Error = stopped
}

// read parses the lines of r, answers the malformed ones and hands the
// others to the workers. It returns why it stopped before the end of
// the body, or "".
func (imp *importer) read(r *bufio.Reader, queues []chan importJob, results chan<- importResult) string {
	extended := time.Time{}
	for n := 1; ; n++ {
		// An import may outlast the server's read timeout, as long as
		// lines keep coming.
		if t := time.Now(); t.Sub(extended) > time.Second {
			extended = t
			_ = imp.rc.SetReadDeadline(t.Add(time.Minute))
		}
		raw, tooLong, err := readImportLine(r)
		switch {
		case tooLong:
			results <- importResult{Line: n, Result: ImportRefused, Reason: "line longer than " + strconv.Itoa(MaxImportLine) + " bytes"}
		case len(bytes.TrimSpace(raw)) > 0:
			in, perr := parseImportLine(raw)
			if perr != nil {
				results <- importResult{Line: n, Result: ImportRefused, Reason: perr.Error(), ClientID: in.ClientID, Identity: in.Identity, Provider: in.Provider}
				break
			}
			h := fnv.New32a()
			_, _ = h.Write([]byte(in.ClientID + "\x00" + in.Identity + "\x00" + in.Provider))
			queues[h.Sum32()%uint32(len(queues))] <- importJob{n: n, in: in}
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return ""
		case errors.As(err, &tooLarge):
			return "the body is larger than " + strconv.Itoa(maxImportBytes>>30) + " GiB: the lines after " + strconv.Itoa(n-1) + " were not imported"
		case err != nil:
			return "the body could not be read after line " + strconv.Itoa(n-1) + ": the rest was not imported"
		}
	}
}

// write answers the results and counts them. It sends what it has
// whenever no other result is waiting, so the client sees each line's
// result as soon as it is done, and at least every 200ms, which also
// keeps the write deadline moving through a long import.
func (imp *importer) write(results <-chan importResult) {
	flushed := time.Now()
	for r := range results {
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
		if t := time.Now(); len(results) == 0 || t.Sub(flushed) > 200*time.Millisecond {
			flushed = t
			imp.flush()
		}
	}
}

// flush sends the answer so far and moves the write deadline on.
func (imp *importer) flush() {
	_ = imp.rc.SetWriteDeadline(time.Now().Add(time.Minute))
	_ = imp.rc.Flush()
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

// line imports one line and says how it went.
func (imp *importer) line(j importJob) importResult {
	in := j.in
	res := importResult{Line: j.n, Result: ImportRefused, ClientID: in.ClientID, Identity: in.Identity, Provider: in.Provider}
	if res.Reason = imp.refers(in); res.Reason != "" {
		return res
	}
	ts, err := in.tokenSet(imp.s.now())
	if err != nil {
		res.Reason = err.Error()
		return res
	}
	conn, replaced, err := imp.s.conns.Put(imp.ctx, imp.api, in.ClientID, in.Identity, in.Provider, ts)
	if err != nil {
		imp.log.Error("import: connection not stored", "api", imp.api.Name, "line", j.n, "err", err)
		res.Reason = "the connection could not be stored; import this line again"
		return res
	}
	res.Result, res.ConnectionID = ImportImported, conn.ID
	if replaced {
		res.Result = ImportReplaced
	}
	ev := events.ConnectionEvent("connection.imported", conn)
	ev.Actor = imp.actor
	imp.s.events.Emit(imp.ctx, ev)
	return res
}

// refers checks that the line's client (with the connection grant) and
// provider are the API's, remembering the answers.
func (imp *importer) refers(in importLine) string {
	if reason := imp.cached("client\x00"+in.ClientID, func() (string, error) {
		cl, err := imp.s.store.GetClient(imp.ctx, imp.api.Name, in.ClientID)
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
		_, err := imp.s.store.GetProvider(imp.ctx, imp.api.Name, in.Provider)
		if errors.Is(err, storage.ErrNotFound) {
			return "provider is not a provider of this API", nil
		}
		return "", err
	})
}

// cached answers check's reason for key, from memory when it was asked
// before; a store failure is a reason and is not remembered.
func (imp *importer) cached(key string, check func() (string, error)) string {
	imp.mu.Lock()
	reason, ok := imp.checks[key]
	imp.mu.Unlock()
	if ok {
		return reason
	}
	reason, err := check()
	if err != nil {
		imp.log.Error("import: lookup failed", "api", imp.api.Name, "err", err)
		return "the store could not be read; import this line again"
	}
	imp.mu.Lock()
	if len(imp.checks) < maxCached {
		imp.checks[key] = reason
	}
	imp.mu.Unlock()
	return reason
}
