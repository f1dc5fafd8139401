package redisfanout

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rampartsec/rampart/events"
)

// maxMessage bounds a message read from the channel.
const maxMessage = 16 << 10

// Config configures a Fanout.
type Config struct {
	// Client is the Redis connection. Required.
	Client redis.UniversalClient
	// Channel is the pub/sub channel. Required.
	Channel string
	// Instance is this instance's name, as its events carry it; messages
	// from it are ignored. Required.
	Instance string
	// Receive gets the events other instances published. Required.
	Receive events.Sink
	// QueueSize bounds the events waiting to be published. Default 1000.
	QueueSize int
	// Timeout bounds each publish. Default 1s.
	Timeout time.Duration
	// OnDrop is called with the number of events not published: a full
	// queue or a failed publish. Nil ignores them.
	OnDrop func(n int)
	// OnError is called for every failed publish. Nil ignores it.
	OnError func(err error)
	// Logger receives connection trouble. Nil discards.
	Logger *slog.Logger
}

// Fanout publishes this instance's events and receives the others'.
type Fanout struct {
	c      Config
	queue  chan events.Event
	pubsub *redis.PubSub
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

var _ events.Sink = (*Fanout)(nil)

// New subscribes to the channel and starts publishing. The subscription is
// made in the background: New does not wait for Redis.
func New(c Config) (*Fanout, error) {
	if c.Client == nil || c.Channel == "" || c.Instance == "" || c.Receive == nil {
		return nil, errors.New("redisfanout: client, channel, instance and receive are required")
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1000
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Fanout{c: c, queue: make(chan events.Event, c.QueueSize), cancel: cancel}
	// Subscribe without waiting: go-redis connects on first use and
	// reconnects after errors on its own.
	f.pubsub = c.Client.Subscribe(ctx)
	if err := f.pubsub.Subscribe(ctx, c.Channel); err != nil {
		c.Logger.Warn("event fan-out: subscribing failed; retrying in the background", slog.String("error", err.Error()))
	}
	f.wg.Add(2)
	go f.publish(ctx)
	go f.receive(ctx)
	return f, nil
}

// Emit queues e for publishing, or drops it when the queue is full.
func (f *Fanout) Emit(e *events.Event) {
	select {
	case f.queue <- *e:
	default:
		f.drop(1)
	}
}

func (f *Fanout) drop(n int) {
	if f.c.OnDrop != nil {
		f.c.OnDrop(n)
	}
}

func (f *Fanout) publish(ctx context.Context) {
	defer f.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-f.queue:
			msg, err := json.Marshal(e)
			if err != nil {
				f.drop(1)
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, f.c.Timeout)
			err = f.c.Client.Publish(pctx, f.c.Channel, msg).Err()
			cancel()
			if err != nil {
				if f.c.OnError != nil {
					f.c.OnError(err)
				}
				f.drop(1)
			}
		}
	}
}

func (f *Fanout) receive(ctx context.Context) {
	defer f.wg.Done()
	// Channel reconnects and resubscribes after a lost connection.
	ch := f.pubsub.Channel(redis.WithChannelSize(256), redis.WithChannelHealthCheckInterval(5*time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			if len(m.Payload) > maxMessage {
				continue
			}
			var e events.Event
			if err := json.Unmarshal([]byte(m.Payload), &e); err != nil || e.Instance == f.c.Instance || e.Policy == "" {
				continue
			}
			bound(&e)
			f.c.Receive.Emit(&e)
		}
	}
}

// bound cuts every string of a received event to events.MaxFieldLen.
func bound(e *events.Event) {
	for _, p := range []*string{&e.ID, &e.Instance, &e.Policy, &e.Rule, &e.Decision, &e.Route, &e.Method, &e.ClientIP, &e.Network, &e.User, &e.Reason} {
		*p = events.Scrub(*p)
	}
	if len(e.Fields) > 16 {
		e.Fields = nil
	}
	for k, v := range e.Fields {
		e.Fields[k] = events.Scrub(v)
	}
}

// Close stops publishing and unsubscribes. Events still queued are dropped.
func (f *Fanout) Close() error {
	f.once.Do(func() {
		f.cancel()
		_ = f.pubsub.Close()
		f.wg.Wait()
	})
	return nil
}
