package main

import (
	"io"
	"os"
	"reflect"
	"testing"

	"github.com/oauth2broker/oauth2broker/broker/grants"
)

// --trusted-proxies comes from the file, the environment or a flag.
func TestTrustedProxiesSetting(t *testing.T) {
	clearEnv(t)
	file := writeFile(t, "c.yaml", "trusted_proxies: [10.0.0.0/8, 192.0.2.7]\n")
	t.Setenv("OAUTH2BROKER_CONFIG", file)
	s, _, err := loadSettings(nil, os.LookupEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := trustedProxies(s.TrustedProxies); err != nil || !reflect.DeepEqual(got, []string{"10.0.0.0/8", "192.0.2.7"}) {
		t.Errorf("from the file: got %q, %v", got, err)
	}
	t.Setenv("OAUTH2BROKER_TRUSTED_PROXIES", "fd00::/8")
	if s, _, _ = loadSettings(nil, os.LookupEnv, io.Discard); s.TrustedProxies != "fd00::/8" {
		t.Errorf("the environment over the file: got %q", s.TrustedProxies)
	}
	if s, _, _ = loadSettings([]string{"--trusted-proxies", "127.0.0.1, ::1"}, os.LookupEnv, io.Discard); s.TrustedProxies != "127.0.0.1, ::1" {
		t.Errorf("the flag over the environment: got %q", s.TrustedProxies)
	}
	if _, err := trustedProxies("10.0.0.0/8,lb.internal"); err == nil {
		t.Error("a host name: got no error, want a usage error")
	}
}

func TestPasswordLimitsSettings(t *testing.T) {
	tests := []struct {
		s    settings
		want grants.PasswordLimits
		bad  bool
	}{
		{s: settings{}, want: grants.PasswordLimits{}},
		{s: settings{PasswordHashers: "3", PasswordQueue: "12", PasswordRate: "0.5", PasswordBurst: "4"},
			want: grants.PasswordLimits{Hashers: 3, Queue: 12, Rate: 0.5, Burst: 4}},
		{s: settings{PasswordQueue: "0", PasswordRate: "off"}, want: grants.PasswordLimits{Queue: -1, Rate: -1}},
		{s: settings{PasswordHashers: "0"}, bad: true},
		{s: settings{PasswordRate: "-1"}, bad: true},
		{s: settings{PasswordRate: "NaN"}, bad: true},
		{s: settings{PasswordRate: "+Inf"}, bad: true},
		{s: settings{PasswordBurst: "x"}, bad: true},
	}
	for _, tt := range tests {
		got, err := passwordLimits(tt.s)
		if tt.bad != (err != nil) || !tt.bad && got != tt.want {
			t.Errorf("passwordLimits(%+v): got %+v, %v, want %+v (error %v)", tt.s, got, err, tt.want, tt.bad)
		}
	}
}
