package io.paxcron.paxos.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server on loopback for tests and the restore drill: Adobe's S3Mock
 * executable jar started with {@code java -jar} on free ports, serving one bucket. Not for
 * production: it keeps objects in a local directory and accepts any credentials.
 *
 * <p>The jar comes from the Maven repository ({@code com.adobe.testing:s3mock:exec}); builds copy
 * it into {@code target/s3mock/} and pass its path in the system property {@value #JAR_PROPERTY}.
 */
public final class LocalS3Server implements AutoCloseable {

  public static final String JAR_PROPERTY = "paxcron.s3mock.jar";

  /** S3Mock is a Spring Boot application; on a loaded 2-core machine it starts in 10-30 s. */
  private static final Duration START_DEADLINE = Duration.ofSeconds(180);

  private final Process process;
  private final int port;
  private final Path log;

  private LocalS3Server(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts the server with {@code bucket} created, storing objects under {@code root}, and waits
   * until it answers.
   *
   * @throws IllegalStateException if the jar is missing or the server does not come up
   */
  public static LocalS3Server start(Path jar, Path root, String bucket) throws IOException {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "the S3Mock jar "
              + jar
              + " is missing; build with mvn so"
              + " maven-dependency-plugin copies it (see paxos-state/backup/pom.xml)");
    }
    Files.createDirectories(root);
    int port = freePort();
    int tlsPort = freePort();
    Path log = root.resolveSibling(root.getFileName() + ".log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "-jar",
                jar.toString(),
                "--server.address=127.0.0.1",
                "--http.port=" + port,
                "--server.port=" + tlsPort,
                "--com.adobe.testing.s3mock.store.root=" + root,
                "--com.adobe.testing.s3mock.store.initial-buckets=" + bucket,
                "--com.adobe.testing.s3mock.store.retain-files-on-exit=true",
                "--logging.level.root=WARN"));
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    LocalS3Server server = new LocalS3Server(process, port, log);
    long deadline = System.nanoTime() + START_DEADLINE.toNanos();
    while (!server.answers()) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "S3Mock exited with " + process.exitValue() + "; see " + log);
      }
      if (System.nanoTime() > deadline) {
        server.close();
        throw new IllegalStateException(
            "S3Mock did not answer within " + START_DEADLINE + "; see " + log);
      }
      try {
        process.waitFor(250, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.close();
        throw new IllegalStateException("interrupted while S3Mock started", e);
      }
    }
    return server;
  }

  /** The jar named by {@value #JAR_PROPERTY}. */
  public static Path jarFromProperty() {
    String path = System.getProperty(JAR_PROPERTY);
    if (path == null) {
      throw new IllegalStateException("system property " + JAR_PROPERTY + " is not set");
    }
    return Path.of(path);
  }

  /** {@code http://127.0.0.1:PORT}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  public Path log() {
    return log;
  }

  /** A target URL for {@code bucket/prefix} on this server. */
  public String targetUrl(String bucket, String prefix, Path credentialsFile) {
    return "s3://"
        + bucket
        + "/"
        + prefix
        + "?endpoint="
        + endpoint()
        + "&region=us-east-1&credentials-file="
        + credentialsFile;
  }

  /**
   * Writes an AWS-format credentials file S3Mock accepts (it checks no signature secret); real
   * deployments point {@code credentials-file} at their own or use the provider chain.
   */
  public static Path writeCredentials(Path file) throws IOException {
    Files.writeString(
        file,
        "[default]\naws_access_key_id = paxcron-test\n"
            + "aws_secret_access_key = paxcron-test-secret\n");
    return file;
  }

  private boolean answers() {
    try {
      HttpURLConnection connection =
          (HttpURLConnection) URI.create(endpoint() + "/").toURL().openConnection();
      connection.setConnectTimeout(500);
      connection.setReadTimeout(2000);
      try {
        return connection.getResponseCode() == 200;
      } finally {
        connection.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  /** Stops the server (SIGKILL after 10 s); its objects stay under the root directory. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  /** Whether the process still runs. */
  public boolean alive() {
    return process.isAlive();
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
