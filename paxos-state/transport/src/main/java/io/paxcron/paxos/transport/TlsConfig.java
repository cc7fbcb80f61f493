package io.paxcron.paxos.transport;

import java.nio.file.Path;

/**
 * Mutual TLS between replicas: every replica presents {@code certChain} (PEM) with its {@code
 * privateKey} (PEM, PKCS#8) both as a server and as a client, and accepts a peer only if the peer's
 * certificate chains to one of {@code trustCerts} (PEM bundle). Clients also check that the
 * server's certificate names the host they dialled (a DNS or IP subject alternative name).
 *
 * <p>The files are read when the transport starts; an unreadable or invalid file fails {@link
 * PeerTransport#start} with an error naming the field.
 */
public record TlsConfig(Path certChain, Path privateKey, Path trustCerts) {

  public TlsConfig {
    if (certChain == null) {
      throw new IllegalArgumentException("tls certChain must be set");
    }
    if (privateKey == null) {
      throw new IllegalArgumentException("tls privateKey must be set");
    }
    if (trustCerts == null) {
      throw new IllegalArgumentException("tls trustCerts must be set");
    }
  }
}
