package io.paxcron.api;

import io.grpc.Status;
import io.paxcron.scheduler.FieldError;
import java.util.List;

/**
 * Why a {@link JobClient} call failed. The subclasses are the errors a program acts on; anything
 * else is this class with the gRPC status code. Unchecked, like gRPC's own errors.
 */
public class JobClientException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final Status.Code code;

  public JobClientException(Status.Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  /** The gRPC status code of the last answer. */
  public Status.Code code() {
    return code;
  }

  /** INVALID_ARGUMENT: the request changed nothing; {@link #violations()} lists every problem. */
  public static final class InvalidRequestException extends JobClientException {
    private static final long serialVersionUID = 1L;
    private final transient List<FieldError> violations;

    public InvalidRequestException(String message, List<FieldError> violations, Throwable cause) {
      super(Status.Code.INVALID_ARGUMENT, message, cause);
      this.violations = List.copyOf(violations);
    }

    /** Field paths in proto field names, e.g. {@code job.retries.max_attempts}. */
    public List<FieldError> violations() {
      return violations;
    }
  }

  /** NOT_FOUND: the job does not exist. */
  public static final class JobNotFoundException extends JobClientException {
    private static final long serialVersionUID = 1L;

    public JobNotFoundException(String message, Throwable cause) {
      super(Status.Code.NOT_FOUND, message, cause);
    }
  }

  /** FAILED_PRECONDITION: the expected version did not match; nothing changed. */
  public static final class VersionConflictException extends JobClientException {
    private static final long serialVersionUID = 1L;
    private final String job;
    private final long currentVersion;

    public VersionConflictException(
        String message, String job, long currentVersion, Throwable cause) {
      super(Status.Code.FAILED_PRECONDITION, message, cause);
      this.job = job;
      this.currentVersion = currentVersion;
    }

    public String job() {
      return job;
    }

    /** The job's current version, 0 if it does not exist. */
    public long currentVersion() {
      return currentVersion;
    }
  }

  /**
   * FAILED_PRECONDITION without a conflict: well-formed, but not allowed now (e.g. max-jobs
   * reached).
   */
  public static final class RejectedException extends JobClientException {
    private static final long serialVersionUID = 1L;

    public RejectedException(String message, Throwable cause) {
      super(Status.Code.FAILED_PRECONDITION, message, cause);
    }
  }

  /**
   * No replica answered within the client's attempts. A write may or may not have been applied; the
   * next call of the same client uses a new request id, so to learn the outcome, read.
   */
  public static final class UnavailableException extends JobClientException {
    private static final long serialVersionUID = 1L;

    public UnavailableException(Status.Code code, String message, Throwable cause) {
      super(code, message, cause);
    }
  }
}
