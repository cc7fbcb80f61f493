package io.paxcron.paxos.backup;

import io.paxcron.paxos.backup.BackupStoreException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An S3-compatible bucket prefix as a backup store, through the AWS SDK v2 with the JDK's URL
 * connection HTTP client (no Netty or Apache client beside gRPC's). An endpoint override and
 * path-style access make MinIO, Ceph RGW and AWS all work.
 *
 * <p>Writes are once-only: a PUT carries {@code If-None-Match: *}, which S3, MinIO and recent Ceph
 * honour by answering 412 when the key exists. A store that rejects the header (400 or 501 naming
 * it) is remembered as lacking conditional writes, and this and later writes fall back to a HEAD
 * followed by a plain PUT — racy against a second writer, which is why only the leader ships
 * backups. The SDK's own payload checksums are sent only when an operation requires them, since
 * older S3-compatible servers reject the trailing-checksum encoding; every image carries its own
 * CRC32C and SHA-256 in the manifest anyway.
 *
 * <p>Credentials come from the default AWS provider chain or from an AWS-format credentials file
 * named in the target URL; they are never logged (the SDK's own logging stays off unless
 * configured).
 */
public final class S3Store implements BackupStore {

  private final TargetUrl.S3 url;
  private final S3Client client;
  private volatile boolean conditionalWrites;

  private S3Store(TargetUrl.S3 url, S3Client client) {
    this.url = url;
    this.client = client;
    this.conditionalWrites = url.conditionalWrites();
  }

  /**
   * A client for {@code url}. Nothing is sent until the first operation.
   *
   * @throws BackupStoreException if the credentials file is given but unreadable
   */
  public static S3Store open(TargetUrl.S3 url, Duration timeout) throws BackupStoreException {
    AwsCredentialsProvider credentials;
    if (url.credentialsFile().isPresent()) {
      if (!Files.isReadable(url.credentialsFile().get())) {
        throw new BackupStoreException(
            Kind.REFUSED,
            url.text() + ": credentials-file " + url.credentialsFile().get() + " is not readable");
      }
      ProfileFile file =
          ProfileFile.builder()
              .content(url.credentialsFile().get())
              .type(ProfileFile.Type.CREDENTIALS)
              .build();
      if (file.profile(url.profile()).isEmpty()) {
        throw new BackupStoreException(
            Kind.REFUSED,
            url.text()
                + ": credentials-file "
                + url.credentialsFile().get()
                + " has no profile ["
                + url.profile()
                + "]");
      }
      credentials =
          ProfileCredentialsProvider.builder().profileFile(file).profileName(url.profile()).build();
    } else {
      credentials = DefaultCredentialsProvider.builder().build();
    }
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(timeout)
                    .socketTimeout(timeout)
                    .build())
            .region(Region.of(url.region()))
            .credentialsProvider(credentials)
            .forcePathStyle(url.pathStyle())
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .overrideConfiguration(c -> c.apiCallTimeout(timeout.multipliedBy(4)));
    url.endpoint().ifPresent(builder::endpointOverride);
    return new S3Store(url, builder.build());
  }

  @Override
  public String describe() {
    return url.text();
  }

  /** Whether writes still use {@code If-None-Match: *} (false after the store rejected it). */
  public boolean conditionalWrites() {
    return conditionalWrites;
  }

  @Override
  public void putOnce(String name, byte[] bytes) throws BackupStoreException {
    String key = url.prefix() + BackupStore.checkName(name);
    if (conditionalWrites) {
      try {
        client.putObject(
            PutObjectRequest.builder()
                .bucket(url.bucket())
                .key(key)
                .ifNoneMatch("*")
                .contentLength((long) bytes.length)
                .build(),
            RequestBody.fromBytes(bytes));
        return;
      } catch (S3Exception e) {
        if (e.statusCode() == 412) {
          throw new BackupStoreException(Kind.EXISTS, where(key) + ": already exists", e);
        }
        if (!rejectsConditionalWrite(e)) {
          throw failure("write", key, e);
        }
        conditionalWrites = false;
      } catch (SdkException e) {
        throw failure("write", key, e);
      }
    }
    try {
      if (exists(key)) {
        throw new BackupStoreException(Kind.EXISTS, where(key) + ": already exists");
      }
      client.putObject(
          PutObjectRequest.builder()
              .bucket(url.bucket())
              .key(key)
              .contentLength((long) bytes.length)
              .build(),
          RequestBody.fromBytes(bytes));
    } catch (SdkException e) {
      throw failure("write", key, e);
    }
  }

  /** A store that does not implement If-None-Match says so with 501, or 400 naming the header. */
  private static boolean rejectsConditionalWrite(S3Exception e) {
    if (e.statusCode() == 501) {
      return true;
    }
    String code = e.awsErrorDetails() == null ? "" : e.awsErrorDetails().errorCode();
    String message = e.getMessage() == null ? "" : e.getMessage();
    return e.statusCode() == 400
        && ("NotImplemented".equals(code) || message.contains("If-None-Match"));
  }

  private boolean exists(String key) {
    try {
      client.headObject(b -> b.bucket(url.bucket()).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return false;
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public byte[] get(String name, long maxBytes) throws BackupStoreException {
    String key = url.prefix() + BackupStore.checkName(name);
    try (ResponseInputStream<GetObjectResponse> in =
        client.getObject(b -> b.bucket(url.bucket()).key(key))) {
      Long length = in.response().contentLength();
      if (length != null && length > maxBytes) {
        in.abort();
        throw new BackupStoreException(
            Kind.TOO_LARGE,
            where(key) + ": holds " + length + " bytes, more than the " + maxBytes + " accepted");
      }
      return readAtMost(in, maxBytes, key);
    } catch (NoSuchKeyException e) {
      throw new BackupStoreException(Kind.NOT_FOUND, where(key) + ": does not exist", e);
    } catch (SdkException e) {
      if (e instanceof S3Exception s3 && s3.statusCode() == 404) {
        throw new BackupStoreException(Kind.NOT_FOUND, where(key) + ": does not exist", e);
      }
      throw failure("read", key, e);
    } catch (IOException | UncheckedIOException e) {
      throw new BackupStoreException(
          Kind.UNAVAILABLE, where(key) + ": reading failed: " + e.getMessage(), e);
    }
  }

  private byte[] readAtMost(InputStream in, long maxBytes, String key)
      throws IOException, BackupStoreException {
    byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
    if (data.length > maxBytes) {
      throw new BackupStoreException(
          Kind.TOO_LARGE, where(key) + ": holds more than the " + maxBytes + " bytes accepted");
    }
    return data;
  }

  @Override
  public List<StoredObject> list() throws BackupStoreException {
    List<StoredObject> objects = new ArrayList<>();
    try {
      String token = null;
      do {
        ListObjectsV2Request.Builder request =
            ListObjectsV2Request.builder().bucket(url.bucket()).prefix(url.prefix());
        if (token != null) {
          request.continuationToken(token);
        }
        ListObjectsV2Response page = client.listObjectsV2(request.build());
        for (S3Object object : page.contents()) {
          String name = object.key().substring(url.prefix().length());
          // Objects in deeper "folders" belong to other prefixes, not to this target.
          if (!name.isEmpty() && !name.contains("/")) {
            objects.add(new StoredObject(name, object.size(), object.lastModified()));
          }
        }
        token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
      } while (token != null);
    } catch (SdkException e) {
      throw failure("list", url.prefix(), e);
    }
    objects.sort(java.util.Comparator.comparing(StoredObject::name));
    return objects;
  }

  @Override
  public void delete(String name) throws BackupStoreException {
    String key = url.prefix() + BackupStore.checkName(name);
    try {
      client.deleteObject(b -> b.bucket(url.bucket()).key(key));
    } catch (SdkException e) {
      throw failure("delete", key, e);
    }
  }

  @Override
  public void close() {
    client.close();
  }

  private String where(String key) {
    return "s3://" + url.bucket() + "/" + key;
  }

  private BackupStoreException failure(String action, String key, SdkException e) {
    Kind kind;
    if (e instanceof S3Exception s3) {
      kind = s3.statusCode() >= 500 ? Kind.UNAVAILABLE : Kind.REFUSED;
    } else if (e instanceof SdkClientException) {
      kind = Kind.UNAVAILABLE;
    } else {
      kind = Kind.UNAVAILABLE;
    }
    String reason =
        e instanceof S3Exception s3 && s3.awsErrorDetails() != null
            ? s3.statusCode()
                + " "
                + s3.awsErrorDetails().errorCode()
                + ": "
                + s3.awsErrorDetails().errorMessage()
            : String.valueOf(e.getMessage());
    return new BackupStoreException(
        kind, where(key) + " (" + url.text() + "): " + action + " failed: " + reason, e);
  }
}
