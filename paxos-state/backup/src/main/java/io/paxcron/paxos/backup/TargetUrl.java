package io.paxcron.paxos.backup;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where backups go, as an operator writes it: a directory path, {@code file:///abs/path}, or {@code
 * s3://bucket/prefix?endpoint=http://127.0.0.1:9000&region=eu-west-1}. S3 query parameters: {@code
 * endpoint} (an S3-compatible server: MinIO, Ceph RGW; absent for AWS), {@code region} (default
 * {@code us-east-1}), {@code path-style} ({@code true} by default when an endpoint is given),
 * {@code credentials-file} (an AWS-format credentials file; absent means the default AWS provider
 * chain), {@code profile} (in that file, default {@code default}) and {@code conditional-writes}
 * ({@code auto}: {@code If-None-Match: *}, falling back when the store rejects it; {@code off}:
 * check-then-write). Credentials themselves are never accepted in a URL, so they never reach a
 * command line, a config file of settings or a log.
 */
public sealed interface TargetUrl {

  /** The URL as given, for logs; it holds no secret. */
  String text();

  /** A directory target. */
  record Directory(String text, Path dir) implements TargetUrl {}

  /** An S3-compatible bucket and key prefix (empty, or ending with '/'). */
  record S3(
      String text,
      String bucket,
      String prefix,
      Optional<URI> endpoint,
      String region,
      boolean pathStyle,
      Optional<Path> credentialsFile,
      String profile,
      boolean conditionalWrites)
      implements TargetUrl {}

  Set<String> S3_PARAMETERS =
      Set.of(
          "endpoint", "region", "path-style", "credentials-file", "profile", "conditional-writes");

  /**
   * Parses a target URL.
   *
   * @throws IllegalArgumentException naming the part that is wrong and why
   */
  static TargetUrl parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("backup target: empty; give a directory or s3://bucket/…");
    }
    String trimmed = text.trim();
    if (trimmed.startsWith("s3://")) {
      return parseS3(trimmed);
    }
    if (trimmed.startsWith("file:")) {
      try {
        return new Directory(trimmed, Path.of(new URI(trimmed)));
      } catch (URISyntaxException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "backup target '"
                + trimmed
                + "': not a file:///absolute/path URL ("
                + e.getMessage()
                + ")",
            e);
      }
    }
    if (trimmed.matches("[A-Za-z][A-Za-z0-9+.-]*://.*")) {
      throw new IllegalArgumentException(
          "backup target '"
              + trimmed
              + "': unsupported scheme; use a directory path, file:///… or s3://…");
    }
    return new Directory(trimmed, Path.of(trimmed));
  }

  private static S3 parseS3(String text) {
    String rest = text.substring("s3://".length());
    String query = "";
    int question = rest.indexOf('?');
    if (question >= 0) {
      query = rest.substring(question + 1);
      rest = rest.substring(0, question);
    }
    // Messages show the URL without its query: an unknown parameter might hold a secret.
    String shown =
        "backup target 's3://"
            + (rest.contains("@") ? "…" + rest.substring(rest.indexOf('@')) : rest)
            + "'";
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String prefix = slash < 0 ? "" : rest.substring(slash + 1);
    if (bucket.contains("@") || bucket.contains(":")) {
      throw new IllegalArgumentException(
          shown
              + ": credentials or ports do not belong in the bucket part; credentials come from"
              + " the AWS provider chain or credentials-file=PATH, the server from endpoint=URL");
    }
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException(
          shown + ": bucket '" + bucket + "' must be 3-63 lowercase letters, digits, '.' or '-'");
    }
    if (!prefix.isEmpty() && !prefix.endsWith("/")) {
      prefix = prefix + "/";
    }
    if (!prefix.isEmpty() && !prefix.matches("([A-Za-z0-9._-]+/)+")) {
      throw new IllegalArgumentException(
          shown
              + ": prefix '"
              + prefix
              + "' must be '/'-separated names of letters, digits, '.', '_' or '-'");
    }
    Map<String, String> parameters = new LinkedHashMap<>();
    if (!query.isEmpty()) {
      for (String pair : query.split("&")) {
        int equals = pair.indexOf('=');
        String key = equals < 0 ? pair : pair.substring(0, equals);
        String value =
            equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
        if (!S3_PARAMETERS.contains(key)) {
          throw new IllegalArgumentException(
              shown
                  + ": parameter '"
                  + key
                  + "' is unknown; known: "
                  + S3_PARAMETERS.stream().sorted().toList()
                  + (key.toLowerCase(java.util.Locale.ROOT).contains("secret")
                          || key.toLowerCase(java.util.Locale.ROOT).contains("key")
                      ? " (credentials are never given in the URL: use credentials-file=PATH)"
                      : ""));
        }
        if (parameters.put(key, value) != null) {
          throw new IllegalArgumentException(shown + ": parameter '" + key + "' is given twice");
        }
      }
    }
    Optional<URI> endpoint = Optional.empty();
    if (parameters.containsKey("endpoint")) {
      try {
        URI uri = new URI(parameters.get("endpoint"));
        if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
            || uri.getHost() == null
            || uri.getUserInfo() != null) {
          throw new URISyntaxException(
              parameters.get("endpoint"),
              "must be http://host[:port] or https://host[:port], without user info");
        }
        endpoint = Optional.of(uri);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException(shown + ": parameter 'endpoint': " + e.getMessage(), e);
      }
    }
    String region = parameters.getOrDefault("region", "us-east-1");
    if (!region.matches("[a-z0-9-]{1,40}")) {
      throw new IllegalArgumentException(
          shown + ": parameter 'region': '" + region + "' is not a region name");
    }
    boolean pathStyle = bool(shown, parameters, "path-style", endpoint.isPresent());
    String conditional = parameters.getOrDefault("conditional-writes", "auto");
    if (!conditional.equals("auto") && !conditional.equals("off")) {
      throw new IllegalArgumentException(
          shown + "': parameter 'conditional-writes': '" + conditional + "' must be auto or off");
    }
    Optional<Path> credentialsFile =
        Optional.ofNullable(parameters.get("credentials-file")).map(Path::of);
    String profile = parameters.getOrDefault("profile", "default");
    return new S3(
        text,
        bucket,
        prefix,
        endpoint,
        region,
        pathStyle,
        credentialsFile,
        profile,
        conditional.equals("auto"));
  }

  private static boolean bool(
      String shown, Map<String, String> parameters, String key, boolean absent) {
    String value = parameters.get(key);
    if (value == null) {
      return absent;
    }
    return switch (value) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              shown + ": parameter '" + key + "': '" + value + "' must be true or false");
    };
  }
}
