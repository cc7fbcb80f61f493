package io.paxcron.server;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/** Small blocking HTTP calls against a replica's HTTP port, and bounded waits on their answers. */
final class HttpProbe {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private HttpProbe() {}

  record Answer(int status, String body) {}

  static Answer get(String url) {
    return send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build());
  }

  static Answer post(String url, boolean withActionHeader) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .POST(HttpRequest.BodyPublishers.noBody());
    if (withActionHeader) {
      request.header("X-Paxcron-Action", "1");
    }
    return send(request.build());
  }

  private static Answer send(HttpRequest request) {
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Answer(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Answer(-1, e.toString());
    }
  }

  /**
   * Polls {@code url} every 100 ms until an answer satisfies {@code done}; fails after {@code
   * timeout}.
   */
  static Answer await(String url, Duration timeout, Predicate<Answer> done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Answer last = null;
    while (System.nanoTime() < deadline) {
      last = get(url);
      if (done.test(last)) {
        return last;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
    }
    throw new AssertionError(
        "GET " + url + " did not answer as expected within " + timeout + "; last answer: " + last);
  }
}
