package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// importLineOut is one line of the import's answer: a line's result, or
// the summary at the end.
type importLineOut struct {
	Line    int           `json:"line"`
	Result  string        `json:"result"`
	Reason  string        `json:"reason"`
	Summary *importSumOut `json:"summary"`
}

type importSumOut struct {
	Lines    int    `json:"lines"`
	Imported int    `json:"imported"`
	Replaced int    `json:"replaced"`
	Refused  int    `json:"refused"`
	Error    string `json:"error"`
}

// maxImportAnswerLine bounds one line of the import's answer.
const maxImportAnswerLine = 1 << 20

// connectionImport is `oauth2broker connection import --api A FILE`: it
// streams FILE to the import route, prints the refused lines (or, with
// --json, every answer line) and a summary, with a progress bar on a
// terminal's stderr and plain counts otherwise. It fails when a line
// was refused or the import stopped early.
func connectionImport(a *app, args []string) error {
	fs := a.flags("connection import")
	api := apiFlag(fs)
	pos, err := a.parseInAPI(fs, api, args, "FILE")
	if err != nil {
		return err
	}
	in, size, err := openImport(pos[0], a.stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	sent := &countingReader{r: in}
	req, err := a.newRequest(context.Background(), http.MethodPost, apiPath(*api, "connections", "import"), nil)
	if err != nil {
		return err
	}
	req.Body, req.ContentLength = io.NopCloser(sent), size
	req.Header.Set("Content-Type", "application/x-ndjson")
	// No overall timeout: an import takes as long as its file. The
	// server answers each line as it goes.
	hc := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, ResponseHeaderTimeout: time.Minute}}
	resp, err := a.do(hc, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	bar := newProgress(a.stderr, isTerminal(a.stderr), size, sent)
	sum, err := a.readImport(resp.Body, bar)
	bar.done()
	if err != nil {
		return err
	}
	return importOutcome(a, sum)
}

// openImport opens FILE, or stdin for "-", and says its size (-1 when
// unknown).
func openImport(name string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return f, -1, nil
	}
	return f, st.Size(), nil
}

// readImport reads the answer's lines, printing refused lines (or all,
// with --json), and returns the summary.
func (a *app) readImport(body io.Reader, bar *progress) (*importSumOut, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxImportAnswerLine)
	for sc.Scan() {
		var l importLineOut
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("unexpected answer from the server: %w", err)
		}
		if a.json {
			fmt.Fprintf(a.stdout, "%s\n", sc.Bytes())
		}
		if l.Summary != nil {
			return l.Summary, nil
		}
		bar.count(l.Result)
		if l.Result == "refused" && !a.json {
			fmt.Fprintf(a.stdout, "line %d: refused: %s\n", l.Line, printableOnly(l.Reason))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return nil, fmt.Errorf("the answer ended before its summary: the import may be partial; import the file again (it is idempotent)")
}

// importOutcome prints the summary and fails when not every line went in.
func importOutcome(a *app, s *importSumOut) error {
	fmt.Fprintf(a.stderr, "%d lines: %d imported, %d replaced, %d refused\n", s.Lines, s.Imported, s.Replaced, s.Refused)
	if s.Error != "" {
		return fmt.Errorf("the import stopped: %s", printableOnly(s.Error))
	}
	if s.Refused > 0 {
		return fmt.Errorf("%d lines were refused; fix them and import the file again (imported lines are replaced, not doubled)", s.Refused)
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows an import's progress on w: on a terminal a bar redrawn
// in place, at most every 100ms; otherwise a line of counts every 5s.
type progress struct {
	w      io.Writer
	tty    bool
	size   int64 // -1 when unknown
	sent   *countingReader
	counts map[string]int
	last   time.Time
	now    func() time.Time
	drawn  bool
}

func newProgress(w io.Writer, tty bool, size int64, sent *countingReader) *progress {
	return &progress{w: w, tty: tty, size: size, sent: sent, counts: map[string]int{}, now: time.Now, last: time.Now()}
}

// count adds a line's result and redraws when it is time.
func (p *progress) count(result string) {
	p.counts[result]++
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if t := p.now(); t.Sub(p.last) >= every {
		p.last = t
		p.draw()
	}
}

// draw writes the current state.
func (p *progress) draw() {
	c := fmt.Sprintf("%d imported, %d replaced, %d refused", p.counts["imported"], p.counts["replaced"], p.counts["refused"])
	if !p.tty {
		fmt.Fprintln(p.w, c)
		return
	}
	p.drawn = true
	if p.size <= 0 {
		fmt.Fprintf(p.w, "\r%s  ", c)
		return
	}
	done := min(p.sent.n.Load(), p.size)
	const width = 30
	fill := int(done * width / p.size)
	fmt.Fprintf(p.w, "\r[%s%s] %3d%%  %s  ", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done*100/p.size, c)
}

// done ends the bar's line, so the summary starts on its own.
func (p *progress) done() {
	if p.drawn {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
