package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"

	"github.com/rampartsec/rampart/auth/password"
	"github.com/rampartsec/rampart/auth/session"
	"github.com/rampartsec/rampart/auth/users"
	"github.com/rampartsec/rampart/config"
	"github.com/rampartsec/rampart/internal/sqldb"
)

// usersSubcommands lists `rampart users` subcommands in help order.
var usersSubcommands = []struct{ name, summary string }{
	{"add", "add a user: rampart users add NAME [--roles a,b]"},
	{"passwd", "set a user's password and end their sessions"},
	{"lock", "lock a user out and end their sessions"},
	{"unlock", "let a locked user log in again, lifting login-protection locks too"},
	{"locks", "show login-protection locks: rampart users locks [NAME]"},
	{"list", "list the users"},
}

// usersFlags locate the stores.
type usersFlags struct {
	fs        *flag.FlagSet
	config    string
	db        string
	postgres  string
	redis     string
	namespace string
	passwords config.Passwords
}

func (f *usersFlags) register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.config, "config", "", "gateway configuration `FILE`: its store and password settings are used (flags given too override them)")
	fs.StringVar(&f.db, "db", "./rampart.db", "SQLite database `PATH` holding users and sessions")
	fs.StringVar(&f.postgres, "postgres", "", "PostgreSQL `DSN` holding users (instead of --db)")
	fs.StringVar(&f.redis, "redis", "", "Redis `URL` holding sessions, whose sessions passwd and lock end too")
	fs.StringVar(&f.namespace, "namespace", config.NamespaceDefault, "the deployment's Redis `NAMESPACE` (store.namespace; taken from --config)")
}

// resolve fills the stores and the password settings from --config, for
// those not given as flags.
func (f *usersFlags) resolve() error {
	if f.config == "" {
		return nil
	}
	cfg, err := config.DecodeFile(f.config)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["db"] {
		f.db = cfg.RelativePath(cfg.Store.SQLite)
	}
	if !set["postgres"] {
		f.postgres = cfg.Store.Postgres
	}
	if !set["redis"] {
		f.redis = cfg.Store.Redis
	}
	if !set["namespace"] {
		ns, _, err := cfg.StoreNamespace()
		if err != nil {
			return err
		}
		f.namespace = ns
	}
	f.passwords = cfg.Auth.Passwords
	return nil
}

func runUsers(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		w := c.stdout
		if len(args) == 0 {
			return c.usageError("users needs a subcommand", "run 'rampart users --help' to list them: add, passwd, lock, unlock, locks, list")
		}
		fmt.Fprintln(w, "Usage: rampart users <add|passwd|lock|unlock|locks|list> [NAME] [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Manage the built-in user store. Passwords are read from standard input,")
		fmt.Fprintln(w, "or prompted for (twice) on a terminal; they are never taken as arguments.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Subcommands:")
		for _, s := range usersSubcommands {
			fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
		}
		fmt.Fprintln(w, "\nRun 'rampart users <subcommand> --help' for its flags.")
		return exitOK
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "add":
		return usersAdd(ctx, c, rest)
	case "passwd":
		return usersPasswd(ctx, c, rest)
	case "lock", "unlock":
		return usersLock(ctx, c, sub, rest)
	case "list":
		return usersList(ctx, c, rest)
	case "locks":
		return usersLocks(ctx, c, rest)
	}
	return c.usageError(fmt.Sprintf("unknown users subcommand %q", sub), "use one of add, passwd, lock, unlock, locks, list")
}

// oneName parses a subcommand's flags and its single NAME argument.
func (c *cli) oneName(fs *flag.FlagSet, args []string) (name string, done bool, code int) {
	pos, done, code := c.parseInterspersed(fs, args)
	if done {
		return "", true, code
	}
	if len(pos) != 1 {
		return "", true, c.usageError(fmt.Sprintf("%s needs exactly one user NAME", fs.Name()), "run '"+fs.Name()+" --help' to see its usage")
	}
	return pos[0], false, exitOK
}

// errNoDatabase is returned by openUsers when a command that only reads
// or changes users finds no SQLite file: creating an empty one would hide
// a wrong --db.
var errNoDatabase = errors.New("no database")

// openUsers opens the user store named by the flags. Only add may create
// a new SQLite database.
func (f *usersFlags) openUsers(ctx context.Context, create bool) (*sqldb.DB, *users.SQLStore, error) {
	if err := f.resolve(); err != nil {
		return nil, nil, err
	}
	var db *sqldb.DB
	var err error
	if f.postgres != "" {
		db, err = sqldb.OpenPostgres(ctx, f.postgres)
	} else {
		if _, serr := os.Stat(f.db); !create && errors.Is(serr, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w at %s", errNoDatabase, f.db)
		}
		db, err = sqldb.OpenSQLite(ctx, f.db)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := users.NewSQLStore(ctx, db, nil)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, s, nil
}

// endSessions ends every session of name in the user database's session
// table and, with --redis, in Redis. It returns how many ended.
func (f *usersFlags) endSessions(ctx context.Context, db *sqldb.DB, name string) (int, error) {
	ss, err := session.NewSQLStore(ctx, db, nil)
	if err != nil {
		return 0, err
	}
	n, err := ss.DeleteUser(ctx, name)
	if err != nil {
		return n, err
	}
	if f.redis != "" {
		opts, err := redis.ParseURL(f.redis)
		if err != nil {
			return n, fmt.Errorf("--redis: %w", err)
		}
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		rs, err := session.NewRedisStore(rdb, session.RedisConfig{Prefix: config.RedisPrefix(f.namespace)})
		if err != nil {
			return n, err
		}
		m, err := rs.DeleteUser(ctx, name)
		if err != nil {
			return n, fmt.Errorf("redis: %w", err)
		}
		n += m
	}
	return n, nil
}

// readPassword reads a new password: prompted twice without echo on a
// terminal, else the first line of standard input.
func (c *cli) readPassword(prompt string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.stderr, prompt)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(c.stderr, "Repeat it: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", errors.New("the two passwords differ")
		}
		return string(a), nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(c.stdin, password.MaxBytes+2), password.MaxBytes+2).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if errors.Is(err, io.EOF) && len(line) > password.MaxBytes {
		return "", password.ErrTooLong
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

// newHash reads, checks and hashes a password for name.
func (c *cli) newHash(name string, settings config.Passwords) (string, int) {
	pw, err := c.readPassword("New password for " + name + ": ")
	if err != nil {
		return "", c.errorf(exitUsage, "reading the password: %v", err)
	}
	if pw == "" {
		c.errorf(exitUsage, "no password given")
		c.hintf("pipe it on standard input, e.g. 'printf %%s \"$PASSWORD\" | rampart users add %s', or run in a terminal to be prompted", name)
		return "", exitUsage
	}
	policy, err := password.NewPolicy(settings.PolicyConfig)
	if err != nil {
		return "", c.errorf(exitFindings, "%v", err)
	}
	if err := policy.Check(name, pw); err != nil {
		c.errorf(exitUsage, "%s", strings.TrimPrefix(err.Error(), "password: "))
		c.hintf("use at least %d characters, e.g. a few unrelated words; common passwords and ones containing the user name are refused", policy.MinLength())
		return "", exitUsage
	}
	h, err := password.NewHasher(settings.Hash)
	if err != nil {
		return "", c.errorf(exitFindings, "%v", err)
	}
	hash, err := h.Hash(pw)
	if err != nil {
		return "", c.errorf(exitUsage, "%v", err)
	}
	return hash, exitOK
}

func (c *cli) storeError(err error) int {
	var cfgErrs config.Errors
	if errors.As(err, &cfgErrs) {
		return c.configError(err)
	}
	if errors.Is(err, errNoDatabase) {
		c.errorf(exitUsage, "%v", err)
		c.hintf("add the first user with 'rampart users add NAME', or point --db at the database")
		return exitUsage
	}
	c.errorf(exitFindings, "%v", err)
	c.hintf("check --config FILE, --db PATH or --postgres DSN")
	return exitFindings
}

func (c *cli) nameError(name string, err error) int {
	switch {
	case errors.Is(err, users.ErrNotFound):
		c.errorf(exitUsage, "no user named %q", name)
		c.hintf("run 'rampart users list' to see the users")
	case errors.Is(err, users.ErrInvalidName):
		c.errorf(exitUsage, "%q is not a valid user name", name)
		c.hintf("use 1 to 64 letters, digits and . _ @ + -, starting with a letter or digit")
	default:
		return c.storeError(err)
	}
	return exitUsage
}

func usersAdd(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("users add", "users add NAME [--roles a,b] [--config FILE | --db PATH | --postgres DSN]",
		`Add a user. The password is read from standard input (its first line), or
prompted for twice on a terminal. It must have at least 15 characters and
must not be a common password.`)
	var f usersFlags
	f.register(fs)
	rolesFlag := fs.String("roles", "", "comma-separated `ROLES`, e.g. admin,editor")
	name, done, code := c.oneName(fs, args)
	if done {
		return code
	}
	canon, err := users.CanonicalName(name)
	if err != nil {
		return c.nameError(name, err)
	}
	var roles []string
	for _, r := range strings.Split(*rolesFlag, ",") {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	if roles, err = users.CanonicalRoles(roles); err != nil {
		return c.usageError(strings.TrimPrefix(err.Error(), "users: "), "roles are letters, digits and . _ : -, separated by commas")
	}
	db, store, err := f.openUsers(ctx, true)
	if err != nil {
		return c.storeError(err)
	}
	defer db.Close()
	if _, err := store.Lookup(ctx, canon); err == nil {
		return c.usageError(fmt.Sprintf("user %q already exists", canon), "use 'rampart users passwd "+canon+"' to change the password")
	}
	hash, code := c.newHash(canon, f.passwords)
	if code != exitOK {
		return code
	}
	if err := store.Create(ctx, users.User{Name: canon, Roles: roles, PasswordHash: hash}); err != nil {
		if errors.Is(err, users.ErrExists) {
			return c.usageError(fmt.Sprintf("user %q already exists", canon), "use 'rampart users passwd "+canon+"' to change the password")
		}
		return c.storeError(err)
	}
	fmt.Fprintf(c.stdout, "added user %s%s\n", canon, rolesSuffix(roles))
	return exitOK
}

func rolesSuffix(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	return " with roles " + strings.Join(roles, ",")
}

func usersPasswd(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("users passwd", "users passwd NAME [--config FILE | --db PATH | --postgres DSN] [--redis URL]",
		`Set a user's password, read like 'users add' reads it, and end all of the
user's sessions.`)
	var f usersFlags
	f.register(fs)
	name, done, code := c.oneName(fs, args)
	if done {
		return code
	}
	db, store, err := f.openUsers(ctx, false)
	if err != nil {
		return c.storeError(err)
	}
	defer db.Close()
	u, err := store.Lookup(ctx, name)
	if err != nil {
		return c.nameError(name, err)
	}
	hash, code := c.newHash(u.Name, f.passwords)
	if code != exitOK {
		return code
	}
	if err := store.SetPassword(ctx, u.Name, hash, true); err != nil {
		return c.nameError(name, err)
	}
	n, err := f.endSessions(ctx, db, u.Name)
	if err != nil {
		c.errorf(exitFindings, "password changed, but ending %s's sessions failed: %v", u.Name, err)
		c.hintf("run the command again, or check --redis URL")
		return exitFindings
	}
	fmt.Fprintf(c.stdout, "changed the password of %s; ended %d session(s)\n", u.Name, n)
	return exitOK
}

func usersLock(ctx context.Context, c *cli, verb string, args []string) int {
	desc := "Lock a user out: logins fail (with the same answer as a wrong password) and\nall of the user's sessions end."
	if verb == "unlock" {
		desc = "Unlock a locked user, and lift every login-protection lock on the account\n(account-wide and per address) on the running gateway."
	}
	fs := c.newFlagSet("users "+verb, "users "+verb+" NAME [--config FILE | --db PATH | --postgres DSN] [--redis URL]", desc)
	var f usersFlags
	f.register(fs)
	var a adminFlags
	if verb == "unlock" {
		a.register(fs)
	}
	name, done, code := c.oneName(fs, args)
	if done {
		return code
	}
	db, store, err := f.openUsers(ctx, false)
	if err != nil {
		return c.storeError(err)
	}
	defer db.Close()
	canon, _ := users.CanonicalName(name)
	if err := store.SetLocked(ctx, name, verb == "lock"); err != nil {
		return c.nameError(name, err)
	}
	if verb == "unlock" {
		fmt.Fprintf(c.stdout, "unlocked %s\n", canon)
		c.liftLoginLocks(ctx, &f, &a, canon)
		return exitOK
	}
	n, err := f.endSessions(ctx, db, canon)
	if err != nil {
		c.errorf(exitFindings, "%s is locked, but ending the sessions failed: %v", canon, err)
		c.hintf("run the command again, or check --redis URL")
		return exitFindings
	}
	fmt.Fprintf(c.stdout, "locked %s; ended %d session(s)\n", canon, n)
	return exitOK
}

func usersList(ctx context.Context, c *cli, args []string) int {
	fs := c.newFlagSet("users list", "users list [--format table|json] [--config FILE | --db PATH | --postgres DSN]", "List the users. Password hashes are never shown.")
	var f usersFlags
	f.register(fs)
	format := fs.String("format", "table", "output `FORMAT`: table or json")
	if done, code := c.parseFlags(fs, args); done {
		return code
	}
	if done, code := c.noArgs(fs); done {
		return code
	}
	if *format != "table" && *format != "json" {
		return c.usageError(fmt.Sprintf("unknown format %q", *format), "use --format table or --format json")
	}
	db, store, err := f.openUsers(ctx, false)
	if err != nil {
		return c.storeError(err)
	}
	defer db.Close()
	list, err := store.List(ctx)
	if err != nil {
		return c.storeError(err)
	}
	if *format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(list); err != nil {
			return c.errorf(exitFindings, "%v", err)
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLES\tLOCKED\tCREATED\tPASSWORD CHANGED")
	for _, u := range list {
		roles := strings.Join(u.Roles, ",")
		if roles == "" {
			roles = "-"
		}
		locked := "no"
		if u.Locked {
			locked = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, roles, locked, u.Created.Format(time.DateTime), u.PasswordChanged.Format(time.DateTime))
	}
	return exitOKIf(tw.Flush())
}

func exitOKIf(err error) int {
	if err != nil {
		return exitFindings
	}
	return exitOK
}
