package app

import (
	"fmt"
	"log/slog"
	"time"

	"qinqing/internal/platform/config"
	"qinqing/internal/platform/files"
)

// fileSigner signs the file URLs the API hands out. Without FILE_URL_KEY
// the key is derived from the JWT secret, never the JWT secret itself.
func fileSigner(cfg *config.Config, now func() time.Time) (*files.Signer, error) {
	key := []byte(cfg.FileURLKey)
	if len(key) == 0 {
		var err error
		if key, err = files.DeriveURLKey([]byte(cfg.JWTSecret)); err != nil {
			return nil, err
		}
	}
	ttl := cfg.FileURLTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	s, err := files.NewSigner(key, ttl, cfg.PublicBaseURL, now)
	if err != nil {
		return nil, fmt.Errorf("file urls: %w", err)
	}
	return s, nil
}

// logFileURLs says how file URLs are made; the key itself is never logged.
func logFileURLs(log *slog.Logger, cfg *config.Config) {
	base := cfg.PublicBaseURL
	if base == "" {
		base = "(relative: PUBLIC_BASE_URL is not set)"
	}
	key := "FILE_URL_KEY"
	if cfg.FileURLKey == "" {
		key = "derived from JWT_SECRET (FILE_URL_KEY is not set)"
	}
	log.Info("file URLs are signed and short-lived", "base", base, "ttl", cfg.FileURLTTL, "key", key)
}
