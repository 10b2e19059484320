-- Keys, usage, service alerts and timetable versions (SQLite). Timestamps are RFC 3339 UTC
-- text (`2026-11-26T08:00:00Z`), which sorts as time does; integers are 64-bit.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- Hex SHA-256 of the secret: the secret itself is shown once and never stored.
    secret_hash TEXT NOT NULL UNIQUE,
    -- The first characters of the secret, to recognise a key in listings.
    prefix TEXT NOT NULL,
    -- Comma-separated: `read`, `admin`.
    scopes TEXT NOT NULL,
    rate_requests INTEGER NOT NULL,
    rate_period_secs INTEGER NOT NULL,
    burst INTEGER NOT NULL,
    -- NULL: no daily quota.
    daily_quota INTEGER,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE api_key_usage (
    key_id TEXT NOT NULL REFERENCES api_keys (id),
    -- UTC day, `YYYY-MM-DD`.
    day TEXT NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
);

CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    cause TEXT NOT NULL,
    effect TEXT NOT NULL,
    url TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT
);

CREATE TABLE alert_translations (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    header TEXT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (alert_id, lang)
);

CREATE TABLE alert_informed_entities (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    agency_id TEXT,
    route_id TEXT,
    station_id TEXT,
    PRIMARY KEY (alert_id, position),
    CHECK ((agency_id IS NOT NULL) + (route_id IS NOT NULL) + (station_id IS NOT NULL) = 1)
);

CREATE TABLE alert_active_periods (
    alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT,
    PRIMARY KEY (alert_id, position)
);

CREATE TABLE timetable_versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL,
    -- JSON array of {name, start_date, end_date}.
    feeds TEXT NOT NULL,
    stations INTEGER NOT NULL,
    stops INTEGER NOT NULL,
    routes INTEGER NOT NULL,
    trips INTEGER NOT NULL,
    service_start TEXT NOT NULL,
    service_end TEXT NOT NULL,
    created_at TEXT NOT NULL,
    activated_at TEXT NOT NULL
);
CREATE INDEX timetable_versions_activated ON timetable_versions (activated_at);
