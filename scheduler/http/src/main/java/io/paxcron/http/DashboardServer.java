package io.paxcron.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.api.auth.AccessState;
import io.paxcron.api.auth.Caller;
import io.paxcron.api.auth.Permission;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.ClusterStatusResponse;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.GetRunOutputResponse;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.ListRunsResponse;
import io.paxcron.proto.v1.PauseJobResponse;
import io.paxcron.proto.v1.ResumeJobResponse;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.TriggerJobResponse;
import io.paxcron.scheduler.FieldError;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.random.RandomGeneratorFactory;

/**
 * One replica's HTTP port: the dashboard's static files (from the {@code paxcron-web-ui} jar), its
 * JSON API under {@code /api/}, {@code /metrics}, {@code /healthz} and {@code /readyz}.
 *
 * <p><b>One source of truth.</b> Every answer about jobs and runs comes from the replica's own gRPC
 * API through a {@link JobClient} (so a follower's dashboard follows the leader, exactly like the
 * CLI), and the Overview asks every member's {@code ClusterService.Status}. Pause, resume and
 * trigger are the same API calls as the CLI's, with the same validation and errors; state-changing
 * requests must be POSTs carrying the header {@value #ACTION_HEADER}, which a cross-site form
 * cannot send.
 *
 * <p>Threading: requests run on a bounded pool ({@link HttpSettings#handlerThreads()} threads,
 * {@link HttpSettings#maxQueuedRequests()} queued); when the queue is full the accepting thread
 * serves the request itself, so a flood slows accepting instead of growing memory.
 */
public final class DashboardServer implements AutoCloseable {

  /** The header every state-changing request carries. */
  public static final String ACTION_HEADER = "X-Paxcron-Action";

  /** Where the static files live on the class path. */
  public static final String STATIC_ROOT = "io/paxcron/webui/static/";

  /** Largest page of jobs or runs one request returns. */
  public static final int MAX_PAGE_SIZE = 500;

  /** Most jobs one bulk pause or resume names. */
  public static final int MAX_BULK_JOBS = 1_000;

  private static final Map<String, String> CONTENT_TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png",
          "ico", "image/x-icon",
          "json", "application/json");

  private final HttpSettings settings;

  /** The job totals of the last scrape whose read of them answered. */
  private volatile Optional<ReplicaProbe.JobTotals> lastTotals = Optional.empty();

  private final ReplicaProbe probe;
  private final PaxcronMetrics metrics;
  private final int selfId;
  private final PrintStream log;
  private final JobClient client;
  private final JobCatalog catalog;
  private final LedgerFeed ledger;
  private final ClusterView cluster;
  private final Health health;
  private final Describer describer = new Describer();
  private final HttpGate gate;

  /**
   * The token of the person whose action the current thread performs; the API client sends it
   * instead of the dashboard's own credential, so the audit trail names that person.
   */
  private final ThreadLocal<String> personToken = new ThreadLocal<>();

  /** The job-name prefix the current request's caller may see ("" for every job). */
  private final ThreadLocal<String> scope = ThreadLocal.withInitial(() -> "");

  private HttpServer server;
  private ThreadPoolExecutor pool;
  private volatile CachedDensity density;

  private record CachedDensity(long generation, long minute, Map<String, Object> body) {}

  /**
   * @param members every replica's client API address by id; {@code selfId}'s is tried first
   */
  public DashboardServer(
      HttpSettings settings,
      ReplicaProbe probe,
      PaxcronMetrics metrics,
      int selfId,
      Map<Integer, String> members,
      PrintStream log) {
    this(settings, probe, metrics, selfId, members, log, HttpGate.open());
  }

  /**
   * @param gate who may do what (docs/security.md), HTTPS, and how to reach the API
   */
  public DashboardServer(
      HttpSettings settings,
      ReplicaProbe probe,
      PaxcronMetrics metrics,
      int selfId,
      Map<Integer, String> members,
      PrintStream log,
      HttpGate gate) {
    this.gate = gate;
    this.settings = settings;
    this.probe = probe;
    this.metrics = metrics;
    this.selfId = selfId;
    this.log = log;
    List<String> addresses = new ArrayList<>();
    if (members.containsKey(selfId)) {
      addresses.add(members.get(selfId));
    }
    new TreeMap<>(members)
        .forEach(
            (id, address) -> {
              if (id != selfId) {
                addresses.add(address);
              }
            });
    long clientId = JobClient.randomClientId();
    // Short attempts: a page that polls every two seconds would rather show "unavailable" than
    // wait.
    this.client =
        new JobClient(
            clientId,
            addresses,
            gate.channels().apply(() -> Optional.ofNullable(personToken.get())),
            new JobClient.Settings(
                Duration.ofSeconds(2), 4, Duration.ofMillis(50), Duration.ofMillis(500)),
            JobClient.Sleeper.SYSTEM,
            RandomGeneratorFactory.of("L64X128MixRandom").create(clientId));
    this.catalog = new JobCatalog(client, settings.catalogMaxAge());
    this.ledger = new LedgerFeed(client, settings.ledgerWindow(), metrics, log);
    this.cluster =
        new ClusterView(members, Duration.ofMillis(800), gate.channels().apply(Optional::empty));
    this.health = new Health(probe, settings.healthDeadline());
  }

  public void start() throws IOException {
    InetSocketAddress address = new InetSocketAddress(settings.bindHost(), settings.port());
    if (gate.tls().isPresent()) {
      com.sun.net.httpserver.HttpsServer https =
          com.sun.net.httpserver.HttpsServer.create(address, 128);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(gate.tls().get()));
      server = https;
    } else {
      server = HttpServer.create(address, 128);
    }
    AtomicInteger threads = new AtomicInteger();
    pool =
        new ThreadPoolExecutor(
            settings.handlerThreads(),
            settings.handlerThreads(),
            60,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(settings.maxQueuedRequests()),
            r -> {
              Thread thread = new Thread(r, "http-" + threads.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            },
            new ThreadPoolExecutor.CallerRunsPolicy());
    server.setExecutor(pool);
    server.createContext("/", this::handle);
    server.start();
    ledger.start();
  }

  /** The port the server listens on (the chosen one when configured with 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    ledger.close();
    if (server != null) {
      server.stop(0);
    }
    if (pool != null) {
      pool.shutdownNow();
    }
    cluster.close();
    client.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Routing

  /** A request's answer: status, content type and body. */
  private record Reply(int status, String contentType, byte[] body) {
    static Reply json(int status, Object value) {
      return new Reply(
          status,
          "application/json; charset=utf-8",
          Json.write(value).getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A bad request parameter: the field and the reason. */
  private static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String field;

    BadRequest(String field, String reason) {
      super(reason);
      this.field = field;
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Reply reply;
      try {
        reply = route(exchange);
      } catch (IllegalStateException e) {
        reply = error(400, e.getMessage(), List.of());
      } catch (BadRequest e) {
        reply =
            error(
                400,
                e.field + ": " + e.getMessage(),
                List.of(Map.of("field", e.field, "description", e.getMessage())));
      } catch (JobClientException e) {
        reply = fromApi(e);
      } catch (StatusRuntimeException e) {
        reply =
            error(
                e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND ? 404 : 503,
                e.getStatus().getCode() + ": " + e.getStatus().getDescription(),
                List.of());
      } catch (RuntimeException e) {
        log.println(
            "dashboard: "
                + exchange.getRequestMethod()
                + " "
                + exchange.getRequestURI()
                + " failed: "
                + e);
        reply = error(500, "internal error: " + e, List.of());
      }
      scope.remove();
      exchange.getResponseHeaders().set("Content-Type", reply.contentType());
      exchange.getResponseHeaders().set("Cache-Control", "no-store");
      exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
      exchange
          .getResponseHeaders()
          .set(
              "Content-Security-Policy",
              "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:");
      if (reply.status() == 302) {
        exchange
            .getResponseHeaders()
            .set("Location", new String(reply.body(), StandardCharsets.UTF_8));
        exchange.sendResponseHeaders(302, -1);
        return;
      }
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(reply.status(), head ? -1 : reply.body().length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(reply.body());
        }
      }
    }
  }

  private Reply route(HttpExchange exchange) throws IOException {
    URI uri = exchange.getRequestURI();
    String path = uri.getPath();
    String method = exchange.getRequestMethod();
    Map<String, List<String>> query = parseQuery(uri.getRawQuery());
    boolean read = method.equals("GET") || method.equals("HEAD");
    if (path.equals("/login")) {
      return login(exchange, method);
    }
    boolean open =
        path.equals("/")
            || path.equals("/ui")
            || path.startsWith("/ui/")
            || path.equals("/healthz")
            || path.equals("/readyz");
    Caller caller = null;
    if (!open) {
      switch (gate.identify(exchange)) {
        case HttpGate.Who.Unknown unknown -> {
          return error(401, unknown.reason(), List.of());
        }
        case HttpGate.Who.Known known -> caller = known.caller();
      }
    }
    if (path.startsWith("/api/job/") && method.equals("POST")) {
      if (!"1".equals(exchange.getRequestHeaders().getFirst(ACTION_HEADER))) {
        return error(
            403,
            ACTION_HEADER
                + ": header missing; state-changing requests must carry "
                + ACTION_HEADER
                + ": 1",
            List.of());
      }
      Optional<String> refusal =
          gate.refusal(caller, Permission.OPERATE, query.getOrDefault("name", List.of()));
      if (refusal.isPresent()) {
        return error(403, refusal.get(), List.of());
      }
      personToken.set(HttpGate.token(exchange).orElse(null));
      try {
        return action(path.substring("/api/job/".length()), query);
      } finally {
        personToken.remove();
      }
    }
    if (!open && read) {
      List<String> named =
          switch (path) {
            case "/api/job" -> query.getOrDefault("name", List.of());
            case "/api/output" ->
                query.getOrDefault("run", List.of()).stream()
                    .map(run -> run.contains("@") ? run.substring(0, run.indexOf('@')) : run)
                    .toList();
            case "/api/runs" ->
                query.getOrDefault("job", List.of()).stream()
                    .filter(job -> !job.isEmpty())
                    .toList();
            default -> List.of();
          };
      Optional<String> refusal = gate.refusal(caller, Permission.READ, named);
      if (refusal.isPresent()) {
        return error(403, refusal.get(), List.of());
      }
      if (path.equals("/api/audit")) {
        return gate.admin(caller)
            ? Reply.json(200, audit(query))
            : error(
                403,
                "permission 'admin' needed; "
                    + caller.actor()
                    + " has role "
                    + caller.role().text(),
                List.of());
      }
      if (path.equals("/api/whoami")) {
        Map<String, Object> who = new LinkedHashMap<>();
        who.put("actor", caller.actor());
        who.put("role", caller.role().text());
        who.put("prefix", caller.prefix());
        who.put("authOn", gate.authOn());
        who.put("insecure", gate.insecureReason().orElse(null));
        return Reply.json(200, who);
      }
      scope.set(caller.prefix());
    }
    if (!read) {
      return error(405, method + " is not allowed on " + path, List.of());
    }
    return switch (path) {
      case "/", "/ui", "/ui/" ->
          new Reply(302, "text/plain", "/ui/overview.html".getBytes(StandardCharsets.UTF_8));
      case "/healthz" -> check(health.live());
      case "/readyz" -> check(health.ready());
      case "/metrics" -> scrape(exchange.getRequestHeaders().getFirst("Accept"));
      case "/api/overview" -> Reply.json(200, withSecurity(overview()));
      case "/api/jobs" -> Reply.json(200, jobs(query));
      case "/api/job" -> Reply.json(200, job(query));
      case "/api/runs" -> Reply.json(200, runs(query));
      case "/api/output" -> output(query);
      case "/api/density" -> Reply.json(200, density());
      default ->
          path.startsWith("/ui/")
              ? staticFile(path.substring(4))
              : error(404, "no such page: " + path, List.of());
    };
  }

  private static Reply check(Health.Check check) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("ok", check.ok());
    body.putAll(check.details());
    return Reply.json(check.ok() ? 200 : 503, body);
  }

  private Reply scrape(String accept) throws IOException {
    ReplicaProbe.View view = probe.view();
    List<AgentStatus> agents = List.of();
    if (view.leaderId() >= 0) {
      agents =
          cluster
              .readOne(view.leaderId())
              .status()
              .map(ClusterStatusResponse::getAgentsList)
              .orElse(List.of());
    }
    // The totals come from this replica's state machine, leader or not, without listing a job;
    // if its loop does not answer in time they keep their last values.
    Optional<ReplicaProbe.JobTotals> totals = probe.jobTotals();
    if (totals.isPresent()) {
      lastTotals = totals;
    }
    // Only the per-job series need the job list. Without a leader it cannot be read; the scrape
    // must still answer at once, so that has_leader = 0 reaches Prometheus, and the job gauges
    // keep their last values.
    Optional<JobCatalog.Read> jobs = Optional.ofNullable(catalog.cached());
    if (view.leaderId() >= 0 && (settings.perJobMetrics() || lastTotals.isEmpty())) {
      try {
        jobs = Optional.of(catalog.jobs());
      } catch (JobClientException e) {
        log.println("dashboard: /metrics could not read the job list: " + e.getMessage());
      }
    }
    metrics.sample(new PaxcronMetrics.Sample(view, agents, jobs, probe.members(), lastTotals));
    ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
    String contentType = metrics.scrape(accept, out);
    return new Reply(200, contentType, out.toByteArray());
  }

  private Reply staticFile(String name) throws IOException {
    if (name.isEmpty()
        || name.contains("..")
        || name.contains("//")
        || name.startsWith("/")
        || !name.matches("[A-Za-z0-9._/-]+")) {
      return error(404, "no such file: " + name, List.of());
    }
    int dot = name.lastIndexOf('.');
    String type =
        dot < 0 ? null : CONTENT_TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    if (type == null) {
      return error(404, "no such file: " + name, List.of());
    }
    try (InputStream in =
        DashboardServer.class.getClassLoader().getResourceAsStream(STATIC_ROOT + name)) {
      if (in == null) {
        return error(404, "no such file: " + name, List.of());
      }
      return new Reply(200, type, in.readAllBytes());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // API

  private Map<String, Object> overview() {
    // The configuration as this replica knows it (docs/membership.md): members added through the
    // log are polled too, and replicas no longer in it show as removed.
    Optional<ReplicaProbe.Members> known = probe.members();
    Map<Integer, ReplicaProbe.Member> byId = new TreeMap<>();
    known.ifPresent(
        k -> {
          Map<Integer, String> addresses = new TreeMap<>();
          for (ReplicaProbe.Member member : k.members()) {
            byId.put(member.id(), member);
            addresses.put(member.id(), member.address());
          }
          cluster.learn(addresses);
        });
    ClusterView.Snapshot snapshot = cluster.read();
    long chosen = snapshot.chosenSlot();
    List<Object> replicas = new ArrayList<>();
    int answering = 0;
    int total = 0;
    int leader = -1;
    long maxLag = 0;
    Set<Integer> leaders = new java.util.TreeSet<>();
    for (ClusterView.MemberStatus member : snapshot.members()) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", member.id());
      row.put("address", member.address());
      row.put("self", member.id() == selfId);
      ReplicaProbe.Member configured = byId.get(member.id());
      String membership =
          configured != null ? configured.role() : known.isPresent() ? "removed" : "voter";
      row.put("membership", membership);
      row.put(
          "leaderLag",
          configured != null && configured.lagSlots() >= 0 ? configured.lagSlots() : null);
      boolean counts = !membership.equals("removed");
      if (counts) {
        total++;
      }
      row.put("lastContact", member.lastContact() == null ? null : member.lastContact().toString());
      if (member.status().isPresent()) {
        ClusterStatusResponse status = member.status().get();
        long lag = Math.max(0, chosen - status.getAppliedSlot());
        if (counts) {
          answering++;
          maxLag = Math.max(maxLag, lag);
        }
        row.put("up", true);
        row.put("role", status.getRole());
        row.put("leader", status.getLeaderId());
        row.put("ballot", status.getBallotRound());
        row.put("chosenSlot", status.getFirstUnchosenSlot() - 1);
        row.put("appliedSlot", status.getAppliedSlot());
        row.put("lag", lag);
        row.put("lease", status.getHoldsLease());
        if (status.getRole().equals("LEADER")) {
          leader = member.id();
        }
        if (status.getLeaderId() >= 0) {
          leaders.add(status.getLeaderId());
        }
      } else {
        row.put("up", false);
        row.put("error", member.error());
      }
      replicas.add(row);
    }
    String line;
    String level;
    if (leader < 0) {
      level = "bad";
      line =
          "No leader: runs are not being launched. "
              + answering
              + "/"
              + total
              + " replicas answering.";
    } else if (answering < total || maxLag > 100) {
      level = "warn";
      line =
          "Degraded: leader is replica "
              + leader
              + "; "
              + answering
              + "/"
              + total
              + " replicas answering"
              + (maxLag > 0 ? ", largest lag " + maxLag + " slots" : "")
              + ".";
    } else {
      level = "ok";
      line =
          "Healthy: leader is replica "
              + leader
              + "; "
              + answering
              + "/"
              + total
              + " replicas answering"
              + (maxLag == 0 ? ", all caught up." : ", largest lag " + maxLag + " slots.");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("self", selfId);
    out.put("level", level);
    out.put("health", line);
    out.put("leader", leader);
    out.put("replicas", replicas);
    out.put("membershipChange", known.map(ReplicaProbe.Members::changeInProgress).orElse(""));
    out.put("agents", snapshot.agents().stream().map(ClusterView::agentView).toList());
    Instant now = Instant.now();
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("hour", ledger.countsSince(now.minusSeconds(3_600).getEpochSecond()));
    counts.put("day", ledger.countsSince(now.minusSeconds(86_400).getEpochSecond()));
    counts.put("windowRecords", settings.ledgerWindow());
    out.put("counts", counts);
    out.put("at", snapshot.at().toString());
    return out;
  }

  private Map<String, Object> jobs(Map<String, List<String>> query) {
    String q = one(query, "q", "").toLowerCase(Locale.ROOT).strip();
    String state = one(query, "state", "all");
    if (!Set.of("all", "active", "paused", "qm").contains(state)) {
      throw new BadRequest("state", "must be all, active, paused or qm, got '" + state + "'");
    }
    String outcome = one(query, "outcome", "").toUpperCase(Locale.ROOT);
    if (!outcome.isEmpty()
        && !Set.of("SUCCEEDED", "FAILED", "TIMED_OUT", "SKIPPED", "LOST", "NONE")
            .contains(outcome)) {
      throw new BadRequest(
          "outcome",
          "must be SUCCEEDED, FAILED, TIMED_OUT, SKIPPED, LOST or NONE, got '" + outcome + "'");
    }
    int page = number(query, "page", 0, 0, Integer.MAX_VALUE);
    int size = number(query, "size", 50, 1, MAX_PAGE_SIZE);
    JobCatalog.Read read = catalog.jobs();
    List<Job> matched = new ArrayList<>();
    String prefix = scope.get();
    int total = 0;
    for (Job job : read.jobs()) {
      if (!job.getName().startsWith(prefix)) {
        continue;
      }
      total++;
      if (!q.isEmpty()
          && !job.getName().contains(q)
          && !job.getSchedule().toLowerCase(Locale.ROOT).contains(q)
          && !job.getZone().toLowerCase(Locale.ROOT).contains(q)) {
        continue;
      }
      boolean keep =
          switch (state) {
            case "active" -> !job.getPaused();
            case "paused" -> job.getPaused();
            case "qm" -> job.getChosenCount() > 0;
            default -> true;
          };
      if (!keep) {
        continue;
      }
      if (!outcome.isEmpty()) {
        RunRecord latest = ledger.latest(job.getName());
        String last = latest == null ? "NONE" : Views.outcomeName(latest.getOutcome());
        if (!last.equals(outcome)) {
          continue;
        }
      }
      matched.add(job);
    }
    Instant now = Instant.now();
    List<Object> rows = new ArrayList<>();
    long from = (long) page * size;
    for (long i = from; i < Math.min(matched.size(), from + size); i++) {
      Job job = matched.get((int) i);
      rows.add(Views.jobRow(job, ledger.latest(job.getName()), now, describer));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", total);
    out.put("matched", matched.size());
    out.put("page", page);
    out.put("size", size);
    out.put("pages", (matched.size() + size - 1) / size);
    out.put("rows", rows);
    return out;
  }

  private Map<String, Object> job(Map<String, List<String>> query) {
    String name = one(query, "name", "");
    if (name.isEmpty()) {
      throw new BadRequest("name", "missing: the job's name");
    }
    int size = number(query, "size", 50, 1, MAX_PAGE_SIZE);
    String token = one(query, "token", "");
    Job job = client.get(name);
    ListRunsResponse runs = client.listRuns(name, size, token);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("job", Views.jobSpec(job, ledger.latest(name), Instant.now(), describer));
    out.put("runs", runs.getRecordsList().stream().map(Views::record).toList());
    out.put("open", runs.getOpenRunsList().stream().map(Views::openRun).toList());
    out.put("nextToken", runs.getNextPageToken());
    return out;
  }

  private Map<String, Object> runs(Map<String, List<String>> query) {
    String outcome = one(query, "outcome", "").toUpperCase(Locale.ROOT);
    String reason = one(query, "reason", "").toUpperCase(Locale.ROOT);
    String job = one(query, "job", "");
    if (!outcome.isEmpty()
        && !Set.of("SUCCEEDED", "FAILED", "TIMED_OUT", "SKIPPED", "LOST").contains(outcome)) {
      throw new BadRequest(
          "outcome",
          "must be SUCCEEDED, FAILED, TIMED_OUT, SKIPPED or LOST, got '" + outcome + "'");
    }
    if (!reason.isEmpty()
        && !Set.of("OVERLAP", "MISFIRE", "PAUSED", "DST_GAP", "DEADLINE").contains(reason)) {
      throw new BadRequest(
          "reason", "must be OVERLAP, MISFIRE, PAUSED, DST_GAP or DEADLINE, got '" + reason + "'");
    }
    long before = number(query, "before", 0, 0, Integer.MAX_VALUE);
    int limit = number(query, "limit", 100, 1, MAX_PAGE_SIZE);
    String prefix = scope.get();
    Predicate<RunRecord> filter =
        record ->
            (outcome.isEmpty() || Views.outcomeName(record.getOutcome()).equals(outcome))
                && (reason.isEmpty() || Views.reasonName(record.getSkipReason()).equals(reason))
                && (job.isEmpty() || record.getJob().equals(job))
                && record.getJob().startsWith(prefix);
    List<RunRecord> records = ledger.newest(filter, before, limit);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("records", records.stream().map(Views::record).toList());
    out.put("oldestKept", ledger.oldestSequence());
    out.put("delivered", ledger.delivered());
    out.put("window", settings.ledgerWindow());
    return out;
  }

  private Reply output(Map<String, List<String>> query) {
    String run = one(query, "run", "");
    if (run.isEmpty()) {
      throw new BadRequest("run", "missing: the run id (job@instant)");
    }
    int attempt = number(query, "attempt", 0, 0, 1_000);
    long offset = number(query, "offset", 0, 0, Integer.MAX_VALUE);
    ClusterView.Snapshot snapshot = cluster.read();
    Optional<ManagedChannel> leader = cluster.leaderChannel(snapshot);
    if (leader.isEmpty()) {
      return error(503, "no leader is known; the leader fetches output from the agent", List.of());
    }
    GetRunOutputResponse response =
        JobServiceGrpc.newBlockingStub(leader.get())
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .getRunOutput(
                GetRunOutputRequest.newBuilder()
                    .setRunId(run)
                    .setAttempt(attempt)
                    .setOffset(offset)
                    .setMaxBytes(256 * 1024)
                    .build());
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("agent", response.getAgentId());
    out.put("attempt", response.getAttempt());
    out.put("offset", response.getOffset());
    out.put("data", response.getData().toString(StandardCharsets.UTF_8));
    out.put("eof", response.getEof());
    out.put("size", response.getSize());
    out.put("truncated", response.getTruncated());
    return Reply.json(200, out);
  }

  private Map<String, Object> density() {
    JobCatalog.Read read = catalog.jobs();
    Instant now = Instant.now();
    long minute = now.getEpochSecond() / 60;
    CachedDensity cached = density;
    if (cached != null && cached.generation() == read.generation() && cached.minute() == minute) {
      return cached.body();
    }
    DensityCurve.Curves curves = DensityCurve.compute(read.jobs(), now);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("start", Instant.ofEpochSecond(minute * 60).toString());
    out.put("jobs", read.jobs().size());
    out.put("questionMarkJobs", curves.questionMarkJobs());
    out.put("unmodelled", curves.skipped());
    out.put("paused", curves.paused());
    out.put("resolved", toList(curves.resolved()));
    out.put("naive", toList(curves.naive()));
    out.put("peakResolved", max(curves.resolved()));
    out.put("peakNaive", max(curves.naive()));
    out.put("totalLaunches", sum(curves.resolved()));
    // The curves change only when the job list or the minute does; 10,000 jobs take a while to
    // model.
    density = new CachedDensity(read.generation(), minute, out);
    return out;
  }

  private static List<Long> toList(long[] values) {
    List<Long> out = new ArrayList<>(values.length);
    for (long value : values) {
      out.add(value);
    }
    return out;
  }

  private static long max(long[] values) {
    long max = 0;
    for (long value : values) {
      max = Math.max(max, value);
    }
    return max;
  }

  private static long sum(long[] values) {
    long sum = 0;
    for (long value : values) {
      sum += value;
    }
    return sum;
  }

  /**
   * POST /api/job/{pause|resume|trigger}?name=a&name=b: each name is one API call, answered in
   * order.
   */
  private Reply action(String verb, Map<String, List<String>> query) {
    if (!Set.of("pause", "resume", "trigger").contains(verb)) {
      return error(404, "no such action: " + verb + " (pause, resume or trigger)", List.of());
    }
    List<String> names = query.getOrDefault("name", List.of());
    if (names.isEmpty()) {
      throw new BadRequest("name", "missing: at least one job name");
    }
    if (names.size() > MAX_BULK_JOBS) {
      throw new BadRequest(
          "name", names.size() + " names exceed MAX_BULK_JOBS (" + MAX_BULK_JOBS + ")");
    }
    if (verb.equals("trigger") && names.size() > 1) {
      throw new BadRequest("name", "trigger takes one job, got " + names.size());
    }
    List<Object> results = new ArrayList<>();
    int failures = 0;
    for (String name : names) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("name", name);
      try {
        switch (verb) {
          case "pause" -> {
            PauseJobResponse response = client.pause(name);
            result.put("changed", response.getChanged());
            result.put("version", response.getVersion());
          }
          case "resume" -> {
            ResumeJobResponse response = client.resume(name);
            result.put("changed", response.getChanged());
            result.put("version", response.getVersion());
          }
          default -> {
            TriggerJobResponse response = client.trigger(name);
            result.put("runId", response.getRunId());
          }
        }
        result.put("ok", true);
      } catch (JobClientException e) {
        failures++;
        result.put("ok", false);
        result.put("error", e.getMessage());
      }
      results.add(result);
    }
    catalog.invalidate();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("results", results);
    out.put("failed", failures);
    return Reply.json(failures == 0 ? 200 : failures == names.size() ? 409 : 207, out);
  }

  // ---------------------------------------------------------------------------------------------
  // Security

  /** The overview with the replica's security stance, for the banner. */
  private Map<String, Object> withSecurity(Map<String, Object> overview) {
    overview.put("authOn", gate.authOn());
    overview.put("insecure", gate.insecureReason().orElse(null));
    // The overview's health line is what every operator reads first: an insecure replica says so
    // there, above everything else.
    gate.insecureReason()
        .ifPresent(
            reason -> {
              overview.put("level", "bad");
              overview.put(
                  "health",
                  "INSECURE (started with --insecure): " + reason + ". " + overview.get("health"));
            });
    return overview;
  }

  /** GET /api/audit?limit=N: the newest audit records this replica has applied (admin). */
  private Map<String, Object> audit(Map<String, List<String>> query) {
    int limit = number(query, "limit", 100, 1, MAX_PAGE_SIZE);
    List<AccessState.AuditRecord> records = gate.access().get().audit();
    List<Object> rows = new ArrayList<>();
    for (int i = records.size() - 1; i >= 0 && rows.size() < limit; i--) {
      AccessState.AuditRecord record = records.get(i);
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("sequence", record.sequence());
      row.put("slot", record.slot());
      row.put("at", record.at().toString());
      row.put("actor", record.actor());
      row.put("source", record.source());
      row.put("action", record.action());
      row.put("target", record.target());
      row.put("result", record.result());
      rows.add(row);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("records", rows);
    out.put("kept", records.size());
    out.put("max", AccessState.MAX_AUDIT_RECORDS);
    return out;
  }

  /**
   * GET /login: a form for a token; POST /login (form field {@code token}): checks the token and
   * keeps it in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), then opens the overview.
   */
  private Reply login(HttpExchange exchange, String method) throws IOException {
    if (method.equals("POST")) {
      byte[] body = exchange.getRequestBody().readNBytes(4096);
      Map<String, List<String>> form = parseQuery(new String(body, StandardCharsets.UTF_8));
      String token = one(form, "token", "").strip();
      Optional<io.paxcron.api.auth.Tokens.Presented> presented =
          io.paxcron.api.auth.Tokens.parse(token);
      if (presented.isEmpty()
          || gate.access()
              .get()
              .authenticate(presented.get().id(), presented.get().secretHash())
              .isEmpty()) {
        return new Reply(
            401,
            "text/html; charset=utf-8",
            loginPage("That token is unknown, revoked or malformed.")
                .getBytes(StandardCharsets.UTF_8));
      }
      exchange
          .getResponseHeaders()
          .add(
              "Set-Cookie",
              HttpGate.COOKIE
                  + "="
                  + token
                  + "; Path=/; HttpOnly; SameSite=Strict"
                  + (gate.tls().isPresent() ? "; Secure" : ""));
      return new Reply(302, "text/plain", "/ui/overview.html".getBytes(StandardCharsets.UTF_8));
    }
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return error(405, method + " is not allowed on /login", List.of());
    }
    return new Reply(
        200, "text/html; charset=utf-8", loginPage("").getBytes(StandardCharsets.UTF_8));
  }

  private String loginPage(String problem) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><title>Paxcron: log in</title>"
        + "</head><body><h1>Paxcron</h1>"
        + gate.insecureReason()
            .map(reason -> "<p><strong>INSECURE:</strong> " + escape(reason) + "</p>")
            .orElse("")
        + (problem.isEmpty() ? "" : "<p><strong>" + escape(problem) + "</strong></p>")
        + "<form method=\"post\" action=\"/login\"><label>Token "
        + "<input type=\"password\" name=\"token\" autocomplete=\"off\" size=\"60\"></label> "
        + "<button type=\"submit\">Log in</button></form>"
        + "<p>Ask an admin for a token: <code>paxcron token create NAME --role viewer</code>.</p>"
        + "</body></html>";
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static Reply fromApi(JobClientException e) {
    List<Object> violations = new ArrayList<>();
    int status =
        switch (e) {
          case JobClientException.InvalidRequestException invalid -> {
            for (FieldError violation : invalid.violations()) {
              violations.add(Map.of("field", violation.path(), "description", violation.reason()));
            }
            yield 400;
          }
          case JobClientException.JobNotFoundException notFound -> 404;
          case JobClientException.VersionConflictException conflict -> 409;
          case JobClientException.RejectedException rejected -> 409;
          case JobClientException.UnavailableException unavailable -> 503;
          default -> 502;
        };
    return error(status, e.getMessage(), violations);
  }

  private static Reply error(int status, String message, List<Object> violations) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", message);
    body.put("violations", violations);
    return Reply.json(status, body);
  }

  static Map<String, List<String>> parseQuery(String raw) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int equals = pair.indexOf('=');
      String key =
          URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
      String value =
          equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
      out.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
    }
    return out;
  }

  private static String one(Map<String, List<String>> query, String name, String fallback) {
    List<String> values = query.get(name);
    if (values == null || values.isEmpty()) {
      return fallback;
    }
    if (values.size() > 1) {
      throw new BadRequest(name, "given " + values.size() + " times; give it once");
    }
    return values.get(0);
  }

  private static int number(
      Map<String, List<String>> query, String name, int fallback, int min, int max) {
    String text = one(query, name, "");
    if (text.isEmpty()) {
      return fallback;
    }
    try {
      int value = Integer.parseInt(text);
      if (value < min || value > max) {
        throw new BadRequest(name, value + " is outside " + min + ".." + max);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new BadRequest(name, "'" + text + "' is not a whole number");
    }
  }
}
