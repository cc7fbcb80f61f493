package io.paxcron.paxos.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TargetUrlTest {

  @Test
  void directoriesArePathsOrFileUrls() {
    assertEquals(new TargetUrl.Directory("/mnt/b", Path.of("/mnt/b")), TargetUrl.parse("/mnt/b"));
    assertEquals(Path.of("/mnt/b"), ((TargetUrl.Directory) TargetUrl.parse("file:///mnt/b")).dir());
  }

  @Test
  void anS3UrlCarriesEndpointRegionPathStyleAndCredentialsFile() {
    TargetUrl.S3 s3 =
        (TargetUrl.S3)
            TargetUrl.parse(
                "s3://paxcron-backups/prod/eu?endpoint="
                    + "http://127.0.0.1:9000&region=eu-west-1&credentials-file=/etc/paxcron/aws");
    assertEquals("paxcron-backups", s3.bucket());
    assertEquals("prod/eu/", s3.prefix());
    assertEquals(Optional.of(URI.create("http://127.0.0.1:9000")), s3.endpoint());
    assertEquals("eu-west-1", s3.region());
    assertTrue(s3.pathStyle(), "an endpoint implies path-style unless told otherwise");
    assertEquals(Optional.of(Path.of("/etc/paxcron/aws")), s3.credentialsFile());
    assertTrue(s3.conditionalWrites());

    TargetUrl.S3 aws = (TargetUrl.S3) TargetUrl.parse("s3://bucket-name");
    assertEquals("", aws.prefix());
    assertFalse(aws.pathStyle());
    assertEquals("us-east-1", aws.region());
  }

  @Test
  void badPartsAreNamedAndSecretsAreNeverEchoed() {
    assertMessage("s3://B/x", "bucket 'B'");
    assertMessage("s3://bucket-name/x?region=EU_WEST", "parameter 'region'");
    assertMessage("s3://bucket-name/x?endpoint=ftp://h", "parameter 'endpoint'");
    assertMessage("s3://bucket-name/x?path-style=yes", "parameter 'path-style'");
    assertMessage("http://bucket/x", "unsupported scheme");
    IllegalArgumentException secret =
        assertThrows(
            IllegalArgumentException.class,
            () -> TargetUrl.parse("s3://bucket-name/x?secret-key=hunter2"));
    assertTrue(secret.getMessage().contains("credentials-file"), secret.getMessage());
    assertFalse(secret.getMessage().contains("hunter2"), secret.getMessage());
    IllegalArgumentException userInfo =
        assertThrows(
            IllegalArgumentException.class,
            () -> TargetUrl.parse("s3://AKIA:hunter2@bucket-name/x"));
    assertFalse(userInfo.getMessage().contains("hunter2"), userInfo.getMessage());
  }

  private static void assertMessage(String url, String expected) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TargetUrl.parse(url));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
