package io.paxcron.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * The dashboard's HTTPS context from the same PEM files as the client port (gRPC reads PEM itself;
 * the JDK's HTTP server needs a {@link SSLContext}). Keys are PKCS#8 ("BEGIN PRIVATE KEY"), RSA or
 * EC, as {@code ops/certs} writes them.
 */
final class PemKeys {
  private PemKeys() {}

  /** Empty when the client port has no TLS. */
  static Optional<SSLContext> sslContext(SecuritySettings settings) {
    if (!settings.tlsOn()) {
      return Optional.empty();
    }
    Path certFile = settings.apiCert().orElseThrow();
    Path keyFile = settings.apiKey().orElseThrow();
    try {
      Certificate[] chain;
      try (InputStream in = Files.newInputStream(certFile)) {
        chain =
            CertificateFactory.getInstance("X.509")
                .generateCertificates(in)
                .toArray(Certificate[]::new);
      }
      if (chain.length == 0) {
        throw new IOException("api-tls-cert " + certFile + " holds no certificate");
      }
      PrivateKey key = privateKey(keyFile, chain[0].getPublicKey().getAlgorithm());
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      char[] password = new char[0];
      store.setKeyEntry("dashboard", key, password, chain);
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(store, password);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return Optional.of(context);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new UncheckedIOException(
          new IOException(
              "api-tls-cert " + certFile + " / api-tls-key " + keyFile + ": " + e.getMessage(), e));
    }
  }

  private static PrivateKey privateKey(Path file, String algorithm)
      throws IOException, GeneralSecurityException {
    String text = Files.readString(file);
    int begin = text.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = text.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IOException(
          "api-tls-key "
              + file
              + " is not a PKCS#8 PEM key ('BEGIN PRIVATE KEY'); convert it with"
              + " openssl pkcs8 -topk8 -nocrypt");
    }
    String base64 = text.substring(begin + 27, end).replaceAll("\\s", "");
    byte[] der = Base64.getDecoder().decode(base64);
    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
  }
}
