package io.paxcron.paxos.transport;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Self-signed certificates made at test time with the JDK's {@code keytool} (no test dependency),
 * exported to the PEM files {@link TlsConfig} reads: an EC P-256 key in PKCS#8 and a certificate
 * naming {@code localhost} and {@code 127.0.0.1} as subject alternative names.
 */
final class TestCertificates {

  private static final String PASSWORD = "test-only";

  /** One replica's identity: its certificate and key as PEM files. */
  record Identity(Path certificate, Path privateKey) {}

  private TestCertificates() {}

  static Identity generate(Path directory, String name)
      throws IOException, GeneralSecurityException {
    Path keystore = directory.resolve(name + ".p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process process =
        new ProcessBuilder(
                List.of(
                    keytool.toString(),
                    "-genkeypair",
                    "-alias",
                    name,
                    "-keyalg",
                    "EC",
                    "-groupname",
                    "secp256r1",
                    "-sigalg",
                    "SHA256withECDSA",
                    "-dname",
                    "CN=" + name + ",O=paxcron-test",
                    "-ext",
                    "SAN=dns:localhost,ip:127.0.0.1",
                    "-validity",
                    "2",
                    "-storetype",
                    "PKCS12",
                    "-keystore",
                    keystore.toString(),
                    "-storepass",
                    PASSWORD,
                    "-keypass",
                    PASSWORD))
            .redirectErrorStream(true)
            .start();
    String output;
    try (InputStream out = process.getInputStream()) {
      output = new String(out.readAllBytes(), StandardCharsets.UTF_8);
    }
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IOException("keytool failed for " + name + ": " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while keytool ran", e);
    }

    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      store.load(in, PASSWORD.toCharArray());
    }
    PrivateKey key = (PrivateKey) store.getKey(name, PASSWORD.toCharArray());
    Certificate certificate = store.getCertificate(name);
    Path certificatePem = directory.resolve(name + ".crt.pem");
    Path keyPem = directory.resolve(name + ".key.pem");
    Files.writeString(certificatePem, pem("CERTIFICATE", certificate.getEncoded()));
    Files.writeString(keyPem, pem("PRIVATE KEY", key.getEncoded()));
    return new Identity(certificatePem, keyPem);
  }

  /** A trust bundle: the given certificates, concatenated. */
  static Path bundle(Path directory, String name, Identity... trusted) throws IOException {
    StringBuilder pems = new StringBuilder();
    for (Identity identity : trusted) {
      pems.append(Files.readString(identity.certificate()));
    }
    return Files.writeString(directory.resolve(name + ".trust.pem"), pems);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }
}
