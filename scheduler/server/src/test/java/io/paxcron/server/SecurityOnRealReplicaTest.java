package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.paxcron.api.auth.ClientSecurity;
import io.paxcron.proto.v1.AccessServiceGrpc;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.BootstrapRequest;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.CreateTokenRequest;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.ListAuditRequest;
import io.paxcron.proto.v1.ListJobsRequest;
import io.paxcron.proto.v1.ListTokensRequest;
import io.paxcron.proto.v1.ProposeRequest;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.Register;
import io.paxcron.proto.v1.ReplicatedLogGrpc;
import io.paxcron.proto.v1.RevokeTokenRequest;
import io.paxcron.proto.v1.StatusRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real replica started as docs/security.md says (TLS on the client port with client certificates,
 * token auth, certificates from {@code ops/certs}): strangers are refused, each role does its part,
 * agents are named by their certificates, the dashboard asks for a token, and a fuzzed API neither
 * crashes the replica nor changes anything through a refused call.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SecurityOnRealReplicaTest {

  @TempDir Path work;

  private ReplicaServer replica;
  private Path certs;
  private String address;
  private int httpPort;
  private final List<ManagedChannel> channels = new ArrayList<>();
  private long requestIds = 1;

  private static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("ops/certs"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("ops/certs not found above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  private static void certs(Path dir, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(repositoryRoot().resolve("ops/certs").toString()));
    command.add(dir.toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    assertEquals(0, process.waitFor(), "ops/certs failed: " + output);
  }

  @BeforeEach
  void start() throws Exception {
    certs = work.resolve("certs");
    certs(
        certs, "--replica", "r1=127.0.0.1,localhost", "--agent", "build-01", "--agent", "build-02");
    // LocalCluster.freePort never hands out one port twice (the kernel may: a CI run got the
    // same port for the peer and the client address).
    int peerPort = LocalCluster.freePort();
    int clientPort = LocalCluster.freePort();
    httpPort = LocalCluster.freePort();
    address = "127.0.0.1:" + clientPort;
    Map<String, ServerConfig.Setting> settings = new LinkedHashMap<>();
    put(settings, "id", "1");
    put(settings, "cluster-id", "secure");
    put(settings, "data-dir", work.resolve("data").toString());
    put(settings, "peer.1", "127.0.0.1:" + peerPort + ":" + clientPort);
    put(settings, "http-port", Integer.toString(httpPort));
    put(settings, "api-tls-cert", certs.resolve("r1.pem").toString());
    put(settings, "api-tls-key", certs.resolve("r1.key").toString());
    put(settings, "api-tls-client-trust", certs.resolve("ca.pem").toString());
    put(settings, "auth", "token");
    replica =
        new ReplicaServer(
            ServerConfig.from(settings), new PrintStream(java.io.OutputStream.nullOutputStream()));
    replica.start();
  }

  private static void put(Map<String, ServerConfig.Setting> settings, String key, String value) {
    settings.put(key, new ServerConfig.Setting(value, "--" + key));
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    if (replica != null) {
      replica.close();
    }
  }

  private Channel tls(Optional<String> token) {
    return tls(token, Optional.empty());
  }

  private Channel tls(Optional<String> token, Optional<String> clientCertificate) {
    ClientSecurity security =
        new ClientSecurity(
            Optional.of(certs.resolve("ca.pem")),
            clientCertificate.map(name -> certs.resolve(name + ".pem")),
            clientCertificate.map(name -> certs.resolve(name + ".key")),
            () -> token);
    ManagedChannel channel = security.channel(address);
    channels.add(channel);
    return channel;
  }

  /** The first admin token, once the replica leads (it elects itself within a second or so). */
  private String bootstrap() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return AccessServiceGrpc.newBlockingStub(tls(Optional.empty()))
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .bootstrap(
                BootstrapRequest.newBuilder()
                    .setClientId(77)
                    .setRequestId(requestIds++)
                    .setName("root")
                    .build())
            .getSecret();
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || System.nanoTime() > deadline) {
          throw e;
        }
        waitABit();
      }
    }
  }

  /** Polling a real process for its election: a bounded wait, not a sleep standing in for sync. */
  private static void waitABit() {
    try {
      TimeUnit.MILLISECONDS.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private String token(String admin, String name, String role) {
    return AccessServiceGrpc.newBlockingStub(tls(Optional.of(admin)))
        .createToken(
            CreateTokenRequest.newBuilder()
                .setClientId(77)
                .setRequestId(requestIds++)
                .setName(name)
                .setRole(role)
                .build())
        .getSecret();
  }

  private static Job job(String name) {
    return Job.newBuilder()
        .setName(name)
        .setSchedule("0 * * * *")
        .setCommand(Job.Command.newBuilder().addArgv("/bin/true"))
        .build();
  }

  /** What a refused call must not change: jobs and versions, tokens, audit records. */
  private String state(String admin) {
    Channel channel = tls(Optional.of(admin));
    return JobServiceGrpc.newBlockingStub(channel).list(ListJobsRequest.getDefaultInstance())
        + "|"
        + AccessServiceGrpc.newBlockingStub(channel)
            .listTokens(ListTokensRequest.getDefaultInstance())
        + "|"
        + AccessServiceGrpc.newBlockingStub(channel)
            .listAudit(ListAuditRequest.newBuilder().setLimit(1000).build())
            .getRecordsCount();
  }

  @Test
  void strangersAreRefusedRolesDoTheirPartAndTheAuditNamesWhoDidWhat() throws Exception {
    String admin = bootstrap();
    String viewer = token(admin, "watcher", "viewer");
    String editor = token(admin, "dev", "editor");

    // A plaintext client does not even get a TLS handshake.
    ManagedChannel plaintext = ClientSecurity.PLAINTEXT.channel(address);
    channels.add(plaintext);
    assertEquals(
        Status.Code.UNAVAILABLE,
        assertThrows(
                StatusRuntimeException.class,
                () ->
                    JobServiceGrpc.newBlockingStub(plaintext)
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .list(ListJobsRequest.getDefaultInstance()))
            .getStatus()
            .getCode());
    // TLS without a token: unauthenticated, on the job API and on the raw log API alike.
    assertEquals(
        Status.Code.UNAUTHENTICATED,
        assertThrows(
                StatusRuntimeException.class,
                () ->
                    JobServiceGrpc.newBlockingStub(tls(Optional.empty()))
                        .list(ListJobsRequest.getDefaultInstance()))
            .getStatus()
            .getCode());
    // A viewer reads, may not write (the permission is named), and may not propose raw commands.
    String before = state(admin);
    StatusRuntimeException denied =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                JobServiceGrpc.newBlockingStub(tls(Optional.of(viewer)))
                    .put(
                        PutJobRequest.newBuilder()
                            .setClientId(5)
                            .setRequestId(1)
                            .setJob(job("x"))
                            .build()));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertTrue(denied.getStatus().getDescription().startsWith("permission 'edit' needed"));
    assertEquals(
        Status.Code.PERMISSION_DENIED,
        assertThrows(
                StatusRuntimeException.class,
                () ->
                    ReplicatedLogGrpc.newBlockingStub(tls(Optional.of(viewer)))
                        .propose(ProposeRequest.newBuilder().setClientId(5).setSequence(1).build()))
            .getStatus()
            .getCode());
    ReplicatedLogGrpc.newBlockingStub(tls(Optional.of(viewer)))
        .status(StatusRequest.getDefaultInstance());
    assertEquals(before, state(admin));

    // An editor writes, and the audit trail says who, what and from where.
    JobServiceGrpc.newBlockingStub(tls(Optional.of(editor)))
        .put(
            PutJobRequest.newBuilder()
                .setClientId(6)
                .setRequestId(1)
                .setJob(job("nightly"))
                .build());
    var audit =
        AccessServiceGrpc.newBlockingStub(tls(Optional.of(admin)))
            .listAudit(ListAuditRequest.getDefaultInstance())
            .getRecords(0);
    assertEquals("JobService/Put", audit.getAction());
    assertEquals("+nightly", audit.getTarget());
    assertTrue(audit.getActor().startsWith("token:dev/"), audit.getActor());
    assertTrue(audit.getSource().contains("127.0.0.1"), audit.getSource());

    // Revoking the editor takes effect at once.
    String editorId = editor.split("_")[1];
    AccessServiceGrpc.newBlockingStub(tls(Optional.of(admin)))
        .revokeToken(
            RevokeTokenRequest.newBuilder()
                .setClientId(77)
                .setRequestId(requestIds++)
                .setId(editorId)
                .build());
    assertEquals(
        Status.Code.UNAUTHENTICATED,
        assertThrows(
                StatusRuntimeException.class,
                () ->
                    JobServiceGrpc.newBlockingStub(tls(Optional.of(editor)))
                        .list(ListJobsRequest.getDefaultInstance()))
            .getStatus()
            .getCode());

    // The dashboard over HTTPS: no token, no data; a viewer reads; a viewer may not pause.
    HttpClient https =
        HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.pem"))).build();
    String base = "https://127.0.0.1:" + httpPort;
    assertEquals(401, get(https, base + "/api/jobs", null).statusCode());
    HttpResponse<String> jobs = get(https, base + "/api/jobs", viewer);
    assertEquals(200, jobs.statusCode(), jobs.body());
    assertTrue(jobs.body().contains("nightly"), jobs.body());
    HttpResponse<String> pause =
        https.send(
            HttpRequest.newBuilder(URI.create(base + "/api/job/pause?name=nightly"))
                .header("Authorization", "Bearer " + viewer)
                .header("X-Paxcron-Action", "1")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, pause.statusCode(), pause.body());
    assertTrue(pause.body().contains("permission 'operate' needed"), pause.body());
    assertEquals(200, get(https, base + "/healthz", null).statusCode());
  }

  private static HttpResponse<String> get(HttpClient client, String url, String token)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return client.send(request.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static SSLContext trusting(Path ca) throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    try (InputStream in = Files.newInputStream(ca)) {
      store.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  /** Opens an agent stream and registers as {@code name}: the leader's first answer. */
  private LeaderMessage register(Channel channel, String name) throws Exception {
    CompletableFuture<LeaderMessage> first = new CompletableFuture<>();
    StreamObserver<AgentMessage> out =
        AgentServiceGrpc.newStub(channel)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .connect(
                new StreamObserver<>() {
                  @Override
                  public void onNext(LeaderMessage message) {
                    first.complete(message);
                  }

                  @Override
                  public void onError(Throwable error) {
                    first.completeExceptionally(error);
                  }

                  @Override
                  public void onCompleted() {
                    first.completeExceptionally(new IllegalStateException("stream ended silently"));
                  }
                });
    out.onNext(
        AgentMessage.newBuilder()
            .setRegister(Register.newBuilder().setName(name).setCapacity(1).setVersion("test"))
            .build());
    try {
      return first.get(15, TimeUnit.SECONDS);
    } finally {
      out.onCompleted();
    }
  }

  @Test
  void anAgentIsNamedByItsCertificateAndAForeignCertificateIsRefused() throws Exception {
    bootstrap();
    LeaderMessage own = register(tls(Optional.empty(), Optional.of("build-01")), "build-01");
    assertTrue(own.hasRegistered(), own.toString());

    LeaderMessage impostor = register(tls(Optional.empty(), Optional.of("build-02")), "build-01");
    assertTrue(impostor.hasRefused(), impostor.toString());
    assertTrue(impostor.getRefused().getReason().contains("'build-02'"), impostor.toString());

    // A certificate from another authority does not get past the TLS handshake.
    Path foreign = work.resolve("foreign");
    certs(foreign, "--agent", "build-01");
    ClientSecurity stranger =
        new ClientSecurity(
            Optional.of(certs.resolve("ca.pem")),
            Optional.of(foreign.resolve("build-01.pem")),
            Optional.of(foreign.resolve("build-01.key")),
            Optional::empty);
    ManagedChannel channel = stranger.channel(address);
    channels.add(channel);
    Exception refused = assertThrows(Exception.class, () -> register(channel, "build-01"));
    assertEquals(
        Status.Code.UNAVAILABLE, Status.fromThrowable(refused).getCode(), refused.toString());

    // Without any certificate or agent token, the agent service is closed.
    Exception anonymous =
        assertThrows(Exception.class, () -> register(tls(Optional.empty()), "build-01"));
    assertEquals(Status.Code.UNAUTHENTICATED, Status.fromThrowable(anonymous).getCode());
  }

  // ---------------------------------------------------------------------------------------- fuzz

  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  /** Every method of every service on the client port, as raw bytes in and out. */
  private static List<MethodDescriptor<byte[], byte[]>> methods() {
    List<MethodDescriptor<byte[], byte[]>> methods = new ArrayList<>();
    for (io.grpc.ServiceDescriptor service :
        List.of(
            JobServiceGrpc.getServiceDescriptor(),
            ClusterServiceGrpc.getServiceDescriptor(),
            io.paxcron.proto.v1.AccessServiceGrpc.getServiceDescriptor(),
            AgentServiceGrpc.getServiceDescriptor(),
            ReplicatedLogGrpc.getServiceDescriptor())) {
      for (MethodDescriptor<?, ?> method : service.getMethods()) {
        methods.add(
            MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(method.getFullMethodName())
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build());
      }
    }
    return methods;
  }

  /** Seeds for mutation: valid requests with strings, numbers and nested messages. */
  private static List<byte[]> seeds() {
    return List.of(
        PutJobRequest.newBuilder()
            .setClientId(1)
            .setRequestId(1)
            .setJob(job("fuzz-job").toBuilder().putEnv("A", "b").setStdin("in"))
            .build()
            .toByteArray(),
        CreateTokenRequest.newBuilder()
            .setClientId(1)
            .setRequestId(1)
            .setName("fuzzer")
            .setRole("admin")
            .build()
            .toByteArray(),
        ListJobsRequest.newBuilder().setPageSize(5).setPageToken("x").build().toByteArray(),
        AgentMessage.newBuilder()
            .setRegister(Register.newBuilder().setName("fuzz").setCapacity(3))
            .build()
            .toByteArray(),
        ProposeRequest.newBuilder()
            .setClientId(1)
            .setSequence(1)
            .setPayload(ByteString.copyFromUtf8("put k v"))
            .build()
            .toByteArray());
  }

  private static byte[] fuzzed(SplittableRandom random, List<byte[]> seeds) {
    int kind = random.nextInt(5);
    switch (kind) {
      case 0 -> {
        byte[] noise = new byte[random.nextInt(200)];
        random.nextBytes(noise);
        return noise;
      }
      case 1 -> {
        // A string field (1, wire type 2) holding bytes that are not UTF-8.
        return new byte[] {0x0A, 4, (byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xFE};
      }
      case 2 -> {
        // A name far beyond every limit, as field 3 (job, name) of most requests.
        byte[] big = new byte[100_000 + random.nextInt(100_000)];
        java.util.Arrays.fill(big, (byte) 'a');
        ByteString.Output out = ByteString.newOutput();
        try {
          com.google.protobuf.CodedOutputStream coded =
              com.google.protobuf.CodedOutputStream.newInstance(out);
          coded.writeByteArray(3, big);
          coded.writeUInt64(1, 1);
          coded.writeUInt64(2, 1);
          coded.flush();
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        return out.toByteString().toByteArray();
      }
      default -> {
        byte[] mutated = seeds.get(random.nextInt(seeds.size())).clone();
        int flips = 1 + random.nextInt(6);
        for (int i = 0; i < flips && mutated.length > 0; i++) {
          mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
        }
        return mutated;
      }
    }
  }

  private static Status send(
      Channel channel, MethodDescriptor<byte[], byte[]> method, byte[] body) {
    ClientCall<byte[], byte[]> call =
        channel.newCall(method, CallOptions.DEFAULT.withDeadlineAfter(3, TimeUnit.SECONDS));
    try {
      ClientCalls.blockingUnaryCall(call, body);
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  @Test
  void aFuzzedApiNeitherCrashesTheReplicaNorChangesStateThroughARefusedCall() {
    long seed = Long.getLong("paxcron.seed", new SplittableRandom().nextLong());
    System.out.println(
        "seed "
            + seed
            + " (replay: mvn -pl scheduler/server test -Dtest=SecurityOnRealReplicaTest"
            + " -Dpaxcron.seed="
            + seed
            + ")");
    SplittableRandom random = new SplittableRandom(seed);
    String admin = bootstrap();
    String viewer = token(admin, "fuzz-viewer", "viewer");
    List<MethodDescriptor<byte[], byte[]>> methods = methods();
    List<byte[]> seeds = seeds();
    String before = state(admin);
    Map<Status.Code, Integer> codes = new java.util.TreeMap<>();
    for (Optional<String> identity : List.of(Optional.<String>empty(), Optional.of(viewer))) {
      Channel channel = tls(identity);
      for (int i = 0; i < 400; i++) {
        MethodDescriptor<byte[], byte[]> method = methods.get(random.nextInt(methods.size()));
        if (identity.isPresent() && method.getFullMethodName().endsWith("/Bootstrap")) {
          continue; // refused by the state (tokens exist), which is what bootstrap() checks
        }
        Status status = send(channel, method, fuzzed(random, seeds));
        codes.merge(status.getCode(), 1, Integer::sum);
        // gRPC itself answers INTERNAL "Invalid protobuf byte sequence" to bytes that do not parse;
        // any other INTERNAL is a bug of ours.
        if (status.getCode() == Status.Code.INTERNAL) {
          assertEquals(
              "Invalid protobuf byte sequence",
              status.getDescription(),
              method.getFullMethodName() + ": " + status + " seed " + seed);
        }
      }
      // Oversized: a stranger is refused before anything is read; a caller who may make the call
      // is refused before the message is parsed.
      MethodDescriptor<byte[], byte[]> list =
          methods.stream()
              .filter(m -> m.getFullMethodName().equals("paxcron.v1.JobService/List"))
              .findFirst()
              .orElseThrow();
      Status huge =
          send(channel, list, new byte[io.paxcron.api.auth.ServerLimits.MAX_MESSAGE_BYTES + 1]);
      assertEquals(
          identity.isEmpty() ? Status.Code.UNAUTHENTICATED : Status.Code.RESOURCE_EXHAUSTED,
          huge.getCode(),
          huge.toString());
    }
    assertEquals(before, state(admin), "seed " + seed + ", answers " + codes);
    // Still serving: an admin's fuzzed calls may change things but must not crash the replica.
    Channel root = tls(Optional.of(admin));
    for (int i = 0; i < 300; i++) {
      send(root, methods.get(random.nextInt(methods.size())), fuzzed(random, seeds));
    }
    ClusterServiceGrpc.newBlockingStub(root).status(ClusterStatusRequest.getDefaultInstance());
    assertTrue(replica.stopped().getNow(null) == null, "the replica stopped, seed " + seed);
    System.out.println("fuzz answers: " + codes);
  }
}
