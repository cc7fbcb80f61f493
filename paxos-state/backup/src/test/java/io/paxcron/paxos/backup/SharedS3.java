package io.paxcron.paxos.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One S3Mock process for every test class of this JVM (it takes 10-30 s to start); each test writes
 * under its own prefix. Stopped by a shutdown hook.
 */
final class SharedS3 {

  static final String BUCKET = "paxcron-backups";

  private static LocalS3Server server;
  private static Path credentials;

  private SharedS3() {}

  static synchronized LocalS3Server server() {
    if (server == null) {
      try {
        Path root = Files.createTempDirectory("paxcron-s3mock");
        server =
            LocalS3Server.start(LocalS3Server.jarFromProperty(), root.resolve("store"), BUCKET);
        credentials = LocalS3Server.writeCredentials(root.resolve("credentials"));
        LocalS3Server started = server;
        Runtime.getRuntime().addShutdownHook(new Thread(started::close, "s3mock-stop"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return server;
  }

  static String url(String prefix) {
    return server().targetUrl(BUCKET, prefix, credentials);
  }

  static Path credentials() {
    server();
    return credentials;
  }

  /** A plain client for tests that damage objects behind the store's back. */
  static S3Client rawClient() {
    return S3Client.builder()
        .httpClient(UrlConnectionHttpClient.create())
        .endpointOverride(URI.create(server().endpoint()))
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(
            StaticCredentialsProvider.create(
                AwsBasicCredentials.create("paxcron-test", "paxcron-test-secret")))
        .build();
  }

  static void overwrite(String key, byte[] bytes) {
    try (S3Client client = rawClient()) {
      client.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(bytes));
    }
  }
}
