package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// WebhookConfig configures a Webhook. The zero value of each field but URL
// is the documented default.
type WebhookConfig struct {
	// URL receives POST requests with a JSON body {"events":[…]}. http or
	// https. Required.
	URL string `yaml:"url" json:"url"`
	// Headers are added to every request, e.g. an Authorization header
	// the receiver checks. Values may reference the environment as
	// ${NAME} in the configuration file. Default none.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
	// BatchSize is the most events one request carries. Default 100.
	BatchSize int `yaml:"batch_size" json:"batch_size,omitempty"`
	// FlushInterval is the longest an event waits for its batch to fill.
	// Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval" json:"flush_interval,omitempty"`
	// QueueSize is how many events may wait to be sent; when the queue is
	// full, new events are dropped and counted. Default 10000.
	QueueSize int `yaml:"queue_size" json:"queue_size,omitempty"`
	// Timeout bounds each request to the receiver. Default 5s.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Retries is how many times a failed batch is sent again, with
	// exponential backoff from 250ms, before it is dropped and counted.
	// Default 3.
	Retries *int `yaml:"retries" json:"retries,omitempty"`

	// Client sends the requests. Nil uses a client with no proxy from the
	// environment and no redirects followed.
	Client *http.Client `yaml:"-" json:"-"`
	// OnDrop is called with the number of events dropped: a full queue, or
	// a batch that failed every retry. Nil ignores them.
	OnDrop func(n int) `yaml:"-" json:"-"`
	// OnError is called once for every failed request. Nil ignores it.
	OnError func(err error) `yaml:"-" json:"-"`
	// Logger receives failures (at most one line per batch). Nil discards.
	Logger *slog.Logger `yaml:"-" json:"-"`
}

// Webhook is a Sink that sends events to an HTTP receiver in batches. Emit
// never blocks: events wait in a bounded queue for one sending goroutine.
// It is safe for concurrent use.
type Webhook struct {
	cfg     WebhookConfig
	url     string
	headers http.Header
	retries int
	queue   chan Event
	stop    chan struct{}
	done    chan struct{}
	// backoff is the first retry's delay; tests shorten it.
	backoff time.Duration
}

var _ Sink = (*Webhook)(nil)

// NewWebhook validates c and starts the sending goroutine; Close stops it.
func NewWebhook(c WebhookConfig) (*Webhook, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("events: webhook url: an http:// or https:// URL")
	}
	if c.BatchSize < 0 || c.QueueSize < 0 || c.FlushInterval < 0 || c.Timeout < 0 || (c.Retries != nil && *c.Retries < 0) {
		return nil, errors.New("events: webhook: batch_size, queue_size, flush_interval, timeout and retries must not be negative")
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = time.Second
	}
	if c.QueueSize == 0 {
		c.QueueSize = 10000
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	retries := 3
	if c.Retries != nil {
		retries = *c.Retries
	}
	h := http.Header{}
	for k, v := range c.Headers {
		if !validHeader(k, v) {
			return nil, fmt.Errorf("events: webhook headers: %q is not a valid header", k)
		}
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	if c.Client == nil {
		c.Client = &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: 90 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Webhook{cfg: c, url: u.String(), headers: h, retries: retries, queue: make(chan Event, c.QueueSize),
		stop: make(chan struct{}), done: make(chan struct{}), backoff: 250 * time.Millisecond}
	go w.run()
	return w, nil
}

func validHeader(k, v string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Emit queues e, or drops it when the queue is full.
func (w *Webhook) Emit(e *Event) {
	select {
	case w.queue <- *e:
	default:
		w.dropped(1)
	}
}

func (w *Webhook) dropped(n int) {
	if w.cfg.OnDrop != nil && n > 0 {
		w.cfg.OnDrop(n)
	}
}

// Close sends what is queued, waiting at most one Timeout for it, and stops
// the sending goroutine. Events still queued after that are dropped and
// counted.
func (w *Webhook) Close() error {
	select {
	case <-w.stop:
		return nil
	default:
	}
	close(w.stop)
	<-w.done
	return nil
}

func (w *Webhook) run() {
	defer close(w.done)
	batch := make([]Event, 0, w.cfg.BatchSize)
	timer := time.NewTimer(w.cfg.FlushInterval)
	defer timer.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Close interrupts a wait between retries.
		<-w.stop
		time.AfterFunc(w.cfg.Timeout, cancel)
	}()
	for {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
			if len(batch) < w.cfg.BatchSize {
				continue
			}
		case <-timer.C:
			timer.Reset(w.cfg.FlushInterval)
			if len(batch) == 0 {
				continue
			}
		case <-w.stop:
			// Drain what is queued now, in batches, within one timeout.
			for {
				select {
				case e := <-w.queue:
					batch = append(batch, e)
					if len(batch) < w.cfg.BatchSize {
						continue
					}
					w.send(ctx, batch)
					batch = batch[:0]
					continue
				default:
				}
				break
			}
			w.send(ctx, batch)
			return
		}
		w.send(ctx, batch)
		batch = batch[:0]
	}
}

// send delivers one batch, retrying with exponential backoff; a batch that
// fails every attempt is dropped and counted.
func (w *Webhook) send(ctx context.Context, batch []Event) {
	if len(batch) == 0 {
		return
	}
	body, err := json.Marshal(struct {
		Events []Event `json:"events"`
	}{batch})
	if err != nil {
		w.dropped(len(batch))
		return
	}
	delay := w.backoff
	for attempt := 0; ; attempt++ {
		err = w.post(ctx, body)
		if err == nil {
			return
		}
		if w.cfg.OnError != nil {
			w.cfg.OnError(err)
		}
		if attempt >= w.retries || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		delay *= 2
	}
	w.cfg.Logger.Warn("event webhook failed; events dropped", slog.String("url", redactURL(w.url)),
		slog.Int("events", len(batch)), slog.String("error", err.Error()))
	w.dropped(len(batch))
}

func (w *Webhook) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold credentials: never in a log
		}
		return fmt.Errorf("events: webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("events: webhook: receiver answered %d", resp.StatusCode)
	}
	return nil
}

// redactURL is u without user information or query, for logs.
func redactURL(u string) string { return Scrub(u) }
