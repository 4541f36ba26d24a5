// Package config loads journeylab's settings with viper from, in increasing
// precedence: built-in defaults, the file journeylab.yaml, JOURNEYLAB_*
// environment variables (dots become underscores: JOURNEYLAB_MONGODB_URI)
// and command-line flags. Every setting is declared once in Settings, which
// drives the defaults, the flags and --help.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Setting declares one configuration key.
type Setting struct {
	Key     string
	Default any
	Usage   string
}

// Settings lists every configuration key with its default and help text.
func Settings() []Setting {
	return []Setting{
		{"listen", "127.0.0.1:8080", "address the HTTP server listens on"},
		{"data_dir", "./data", "directory of the embedded SQLite store and of the exposure journal (created if missing)"},
		{"mongodb.uri", "", "MongoDB connection string; set it to use MongoDB instead of SQLite"},
		{"mongodb.database", "journeylab", "MongoDB database name"},
		{"dev_mode", false, "disable API-key checks (development only; logs a loud warning)"},
		{"log.level", "info", "log level: debug, info, warn or error"},
		{"log.format", "text", "log format: text or json"},
		{"http.body_limit", 1 << 20, "largest accepted request body in bytes"},
		{"http.rate_limit", 0, "requests per second per client IP on /v1 and /ofrep/v1 (0 = unlimited)"},
		{"http.cors_origins", []string{}, "origins allowed by CORS (comma-separated; empty = same-origin only)"},
		{"http.max_inflight_bytes", 16 << 20, "most request-body bytes read and held at once across all requests (at least http.body_limit)"},
		{"http.drain_period", 5 * time.Second, "how long /readyz is red before the listener closes on shutdown, so load balancers stop sending traffic first"},
		{"http.shutdown_timeout", 15 * time.Second, "how long graceful shutdown waits for requests and exposure flushes"},
		{"assign.refresh_interval", 250 * time.Millisecond, "how often serving checks the store for experiment changes"},
		{"exposures.flush_interval", 200 * time.Millisecond, "longest a journaled exposure waits before it is merged into the store"},
		{"exposures.batch_size", 5000, "exposures per store write when merging the journal"},
		{"exposures.journal_max_bytes", 1 << 30, "bytes of journaled exposures not yet in the store before assign answers without recording (and says so)"},
		{"exposures.merge_percent", 50, "percent of one core the journal merger may use while the journal is less than half full; bursts of new visitors then wait in the journal instead of slowing /v1/assign (100 = no bound)"},
		{"exposures.journal_sync", time.Second, "how often the exposure journal is synced to disk; 0 = on every request (a process crash loses nothing either way)"},
		{"exposures.dedupe_size", 500000, "(experiment, unit) pairs remembered to skip duplicate exposures"},
		{"events.max_batch", 1000, "most events in one POST /v1/events"},
		{"events.journal_max_bytes", 256 << 20, "bytes of acknowledged events not yet merged into the store before POST /v1/events answers 503 (about 40 bytes of memory per such event)"},
		{"events.max_future_skew", 5 * time.Minute, "events stamped further in the future than this are rejected"},
		{"auth.cache_ttl", 30 * time.Second, "how long a verified API key is trusted without re-reading the store"},
		{"health.enabled", true, "run the scheduled experiment health checks (SRM, data delay, guardrails, ...)"},
		{"health.interval", 5 * time.Minute, "how often the health checks run on every running experiment"},
		{"health.exposure_delay", time.Hour, "default: alert when a running experiment records no exposure for this long"},
		{"health.event_delay", 6 * time.Hour, "default: alert when a running experiment's units send no outcome event for this long"},
		{"health.max_days", 42, "default: alert when the planned sample would take longer than this many days"},
		{"health.webhooks", []string{}, "URLs that receive alerts as signed JSON (comma-separated; needs health.webhook_secret)"},
		{"health.slack_webhooks", []string{}, "Slack incoming-webhook URLs that receive alerts (comma-separated)"},
		{"health.webhook_secret", "", "HMAC-SHA256 key that signs JSON webhook deliveries (prefer the env variable)"},
		{"privacy.attributes", []string{"*"}, "request attributes stored with exposures and events (comma-separated; * = all, empty = none); the others are dropped on arrival (targeting still sees them)"},
		{"privacy.event_retention", time.Duration(0), "delete raw events older than this of units in no experiment that is running or stopped less than this ago (0 = keep forever; at least 24h); reports are unaffected, rebuilding an experiment past it is refused"},
		{"privacy.hash_secret", "", "secret of the keyed hash the erasure audit stores instead of unit ids (at least 16 characters; empty = a random one kept in data_dir/privacy.key)"},
		{"privacy.exposure_retention", time.Duration(0), "delete the exposures and per-unit rollups of experiments stopped longer ago than this (0 = keep forever; at least 24h); their reports are then gone, export them first"},
		{"privacy.pseudonymise_units", false, "store a keyed hash (HMAC-SHA256) of each unit id instead of the id; assignment still uses the id (needs privacy.pseudonym_key or privacy.pseudonym_key_file; only on an empty store)"},
		{"privacy.pseudonym_key", "", "key of the unit-id pseudonyms (at least 16 characters, the same on every instance; prefer the env variable)"},
		{"privacy.pseudonym_key_file", "", "file holding the key of the unit-id pseudonyms (instead of privacy.pseudonym_key)"},
	}
}

// Config is the validated configuration.
type Config struct {
	Listen       string
	DataDir      string
	MongoURI     string
	MongoDB      string
	DevMode      bool
	LogLevel     string
	LogFormat    string
	BodyLimit    int
	RateLimit    int
	CORSOrigins  []string
	ShutdownWait time.Duration
	// MaxInflightBytes caps request-body bytes held at once.
	MaxInflightBytes int64
	// DrainPeriod is how long /readyz is red before shutdown closes the listener.
	DrainPeriod time.Duration

	RefreshInterval time.Duration

	FlushInterval time.Duration
	BatchSize     int
	DedupeSize    int
	// JournalMaxBytes and JournalSync tune the exposure journal.
	JournalMaxBytes int64
	JournalSync     time.Duration
	// MergePercent bounds the exposure merger's CPU while the journal is
	// less than half full.
	MergePercent int

	MaxEventBatch int
	// EventJournalMaxBytes bounds the event staging journal.
	EventJournalMaxBytes int64
	MaxFutureSkew        time.Duration
	AuthCacheTTL         time.Duration
	// PrivacyAttributes is the attribute allow-list ("*" = all).
	PrivacyAttributes []string
	// PrivacyEventRetention is how long raw events are kept (0 = forever).
	PrivacyEventRetention time.Duration
	// PrivacyHashSecret keys the hash of erased unit ids (privacy.LoadSecret).
	PrivacyHashSecret string
	// PrivacyExposureRetention is how long the exposures and per-unit
	// rollups of a stopped experiment are kept (0 = forever).
	PrivacyExposureRetention time.Duration
	// PrivacyPseudonymise stores keyed hashes of unit ids instead of ids.
	PrivacyPseudonymise bool
	// PrivacyPseudonymKey and PrivacyPseudonymKeyFile give its key
	// (privacy.LoadPseudonymKey).
	PrivacyPseudonymKey     string
	PrivacyPseudonymKeyFile string

	ConfigFileUsed string

	// Health configures the scheduled health checks and alert delivery.
	Health Health
}

// Health is the health-check part of Config.
type Health struct {
	Enabled       bool
	Interval      time.Duration
	ExposureDelay time.Duration
	EventDelay    time.Duration
	MaxDays       int
	Webhooks      []string
	SlackWebhooks []string
	// WebhookSecret signs JSON deliveries; never log it.
	WebhookSecret string
}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid setting")

// New returns a viper instance with defaults, env binding and the config
// file search path (the working directory, or the file named by path).
func New(path string) *viper.Viper {
	v := viper.New()
	for _, s := range Settings() {
		v.SetDefault(s.Key, s.Default)
	}
	v.SetEnvPrefix("JOURNEYLAB")
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	if path == "" {
		// An explicit file name, not viper's name search: the search also
		// matches extension-less files such as the journeylab binary itself.
		if _, err := os.Stat(DefaultFile); err != nil {
			return v
		}
		path = DefaultFile
	}
	v.SetConfigFile(path)
	return v
}

// DefaultFile is the config file read from the working directory when no
// --config is given; it is optional.
const DefaultFile = "journeylab.yaml"

// RegisterFlags adds a flag for every setting to fs and binds it to v.
func RegisterFlags(fs *pflag.FlagSet, v *viper.Viper) {
	for _, s := range Settings() {
		name := strings.NewReplacer(".", "-", "_", "-").Replace(s.Key)
		usage := s.Usage + " (" + s.Key + ", env JOURNEYLAB_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(s.Key)) + ")"
		switch d := s.Default.(type) {
		case string:
			fs.String(name, d, usage)
		case bool:
			fs.Bool(name, d, usage)
		case int:
			fs.Int(name, d, usage)
		case time.Duration:
			fs.Duration(name, d, usage)
		case []string:
			fs.StringSlice(name, d, usage)
		default:
			panic(fmt.Sprintf("config: setting %s has unsupported type %T", s.Key, s.Default))
		}
		if err := v.BindPFlag(s.Key, fs.Lookup(name)); err != nil {
			panic(fmt.Sprintf("config: bind %s: %v", s.Key, err))
		}
	}
}

// Load reads the config file (if any) and returns the validated configuration.
// A missing journeylab.yaml is fine; a broken one is an error.
func Load(v *viper.Viper) (Config, error) {
	if v.ConfigFileUsed() != "" {
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("read config file: %w", err)
		}
	}
	var errs []error
	str := func(k string) string { return v.GetString(k) }
	num := func(k string, lo, hi int) int {
		n, err := castInt(v.Get(k))
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%w %s=%v: must be a whole number from %d to %d", ErrInvalid, k, v.Get(k), lo, hi))
		}
		return n
	}
	dur := func(k string, lo, hi time.Duration) time.Duration {
		d, err := castDuration(v.Get(k))
		if err != nil || d < lo || d > hi {
			errs = append(errs, fmt.Errorf("%w %s=%v: must be a duration from %v to %v (e.g. 250ms, 5s)", ErrInvalid, k, v.Get(k), lo, hi))
		}
		return d
	}
	boolean := func(k string) bool {
		b, err := castBool(v.Get(k))
		if err != nil {
			errs = append(errs, fmt.Errorf("%w %s=%v: must be true or false", ErrInvalid, k, v.Get(k)))
		}
		return b
	}
	c := Config{
		Listen:                str("listen"),
		DataDir:               str("data_dir"),
		MongoURI:              str("mongodb.uri"),
		MongoDB:               str("mongodb.database"),
		DevMode:               boolean("dev_mode"),
		LogLevel:              strings.ToLower(str("log.level")),
		LogFormat:             strings.ToLower(str("log.format")),
		BodyLimit:             num("http.body_limit", 1<<10, 64<<20),
		RateLimit:             num("http.rate_limit", 0, 10_000_000),
		CORSOrigins:           cleanList(v.GetStringSlice("http.cors_origins")),
		ShutdownWait:          dur("http.shutdown_timeout", 100*time.Millisecond, 10*time.Minute),
		MaxInflightBytes:      int64(num("http.max_inflight_bytes", 1<<10, 1<<40)),
		DrainPeriod:           dur("http.drain_period", 0, 5*time.Minute),
		RefreshInterval:       dur("assign.refresh_interval", 10*time.Millisecond, time.Second),
		FlushInterval:         dur("exposures.flush_interval", time.Millisecond, 10*time.Second),
		BatchSize:             num("exposures.batch_size", 1, 100_000),
		JournalMaxBytes:       int64(num("exposures.journal_max_bytes", 1<<20, 1<<40)),
		JournalSync:           dur("exposures.journal_sync", 0, time.Minute),
		MergePercent:          num("exposures.merge_percent", 1, 100),
		DedupeSize:            num("exposures.dedupe_size", 1000, 100_000_000),
		MaxEventBatch:         num("events.max_batch", 1, 10_000),
		EventJournalMaxBytes:  int64(num("events.journal_max_bytes", 1<<20, 1<<40)),
		MaxFutureSkew:         dur("events.max_future_skew", 0, 24*time.Hour),
		AuthCacheTTL:          dur("auth.cache_ttl", 0, time.Hour),
		PrivacyAttributes:     cleanList(v.GetStringSlice("privacy.attributes")),
		PrivacyEventRetention: dur("privacy.event_retention", 0, 100*365*24*time.Hour),
		PrivacyHashSecret:     str("privacy.hash_secret"),

		PrivacyExposureRetention: dur("privacy.exposure_retention", 0, 100*365*24*time.Hour),
		PrivacyPseudonymise:      boolean("privacy.pseudonymise_units"),
		PrivacyPseudonymKey:      str("privacy.pseudonym_key"),
		PrivacyPseudonymKeyFile:  str("privacy.pseudonym_key_file"),

		ConfigFileUsed: v.ConfigFileUsed(),
		Health: Health{
			Enabled:       boolean("health.enabled"),
			Interval:      dur("health.interval", 10*time.Second, 24*time.Hour),
			ExposureDelay: dur("health.exposure_delay", time.Minute, 30*24*time.Hour),
			EventDelay:    dur("health.event_delay", time.Minute, 30*24*time.Hour),
			MaxDays:       num("health.max_days", 1, 3650),
			Webhooks:      cleanList(v.GetStringSlice("health.webhooks")),
			SlackWebhooks: cleanList(v.GetStringSlice("health.slack_webhooks")),
			WebhookSecret: str("health.webhook_secret"),
		},
	}
	if c.MaxInflightBytes < int64(c.BodyLimit) {
		errs = append(errs, fmt.Errorf("%w http.max_inflight_bytes=%d: must be at least http.body_limit (%d)", ErrInvalid, c.MaxInflightBytes, c.BodyLimit))
	}
	// The shortest retention privacy.MinRetention accepts; shorter ones
	// would cut into the pre-exposure window CUPED reads.
	if c.PrivacyEventRetention > 0 && c.PrivacyEventRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("%w privacy.event_retention=%v: must be 0 (keep forever) or at least 24h", ErrInvalid, c.PrivacyEventRetention))
	}
	if c.PrivacyExposureRetention > 0 && c.PrivacyExposureRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("%w privacy.exposure_retention=%v: must be 0 (keep forever) or at least 24h", ErrInvalid, c.PrivacyExposureRetention))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("%w listen=%q: must be host:port (e.g. 127.0.0.1:8080): %v", ErrInvalid, c.Listen, err))
	}
	if c.MongoURI == "" && strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, fmt.Errorf("%w data_dir: must not be empty when mongodb.uri is unset", ErrInvalid))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, fmt.Errorf("%w mongodb.uri: must start with mongodb:// or mongodb+srv://", ErrInvalid))
	}
	if c.MongoURI != "" && c.MongoDB == "" {
		errs = append(errs, fmt.Errorf("%w mongodb.database: must not be empty", ErrInvalid))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("%w log.level=%q: want debug, info, warn or error", ErrInvalid, c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("%w log.format=%q: want text or json", ErrInvalid, c.LogFormat))
	}
	if len(c.Health.Webhooks) > 0 && c.Health.WebhookSecret == "" {
		errs = append(errs, fmt.Errorf("%w health.webhook_secret: required when health.webhooks is set (JSON deliveries are signed)", ErrInvalid))
	}
	for _, o := range c.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
			errs = append(errs, fmt.Errorf("%w http.cors_origins: %q must start with http:// or https://", ErrInvalid, o))
		}
	}
	return c, errors.Join(errs...)
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
