package demomcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// CallTool calls a tool in the session cs and decodes its structured
// answer into out; a tool error (IsError) is an error too.
func CallTool(ctx context.Context, cs *mcp.ClientSession, name string, args, out any) error {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return err
	}
	if res.IsError {
		return fmt.Errorf("demomcp: tool %s failed: %v", name, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// NotifyToolsChanged adds a tool that does nothing, so that the server
// sends notifications/tools/list_changed to every session (over its GET
// stream), until heard is ready or ctx ends: a client's GET stream may
// open only after the first one. For tests of that stream.
func (d *Demo) NotifyToolsChanged(ctx context.Context, heard <-chan struct{}) error {
	for i := 0; ; i++ {
		mcp.AddTool(d.MCPServer, &mcp.Tool{Name: "noop" + strconv.Itoa(i), Description: "Does nothing."},
			func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
				return nil, nil, nil
			})
		select {
		case <-heard:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("demomcp: no tools/list_changed heard: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
