package io.paxcron.schedule;

import java.util.SplittableRandom;

/** Random but plausible expressions, biased toward the hours where DST transitions happen. */
final class RandomExpressions {
  private RandomExpressions() {}

  private static String pick(SplittableRandom random, String... choices) {
    return choices[random.nextInt(choices.length)];
  }

  static String field(SplittableRandom random, int min, int max) {
    int a = random.nextInt(min, max + 1);
    int b = random.nextInt(min, max + 1);
    int low = Math.min(a, b);
    int high = Math.max(a, b);
    int step = random.nextInt(1, Math.max(2, (max - min) / 2));
    return switch (random.nextInt(8)) {
      case 0 -> "*";
      case 1 -> Integer.toString(a);
      case 2 -> low + "-" + high;
      case 3 -> "*/" + step;
      case 4 -> low + "-" + high + "/" + step;
      case 5 -> a + "/" + step;
      case 6 -> low == high ? Integer.toString(low) : low + "," + high;
      default -> low + "," + high + "," + random.nextInt(min, max + 1);
    };
  }

  static String minute(SplittableRandom random) {
    return random.nextInt(3) == 0
        ? pick(random, "0", "30", "*/15", "0,30", "45", "15,45", "*", "*/7")
        : field(random, 0, 59);
  }

  static String hour(SplittableRandom random) {
    return random.nextInt(2) == 0
        ? pick(
            random, "*", "*", "0", "1", "2", "3", "0-3", "1-2", "2,14", "*/2", "23", "0,1,2,3",
            "2-4/2")
        : field(random, 0, 23);
  }

  static String dayOfMonth(SplittableRandom random) {
    return random.nextInt(3) != 0 ? "*" : field(random, 1, 28);
  }

  static String month(SplittableRandom random) {
    return random.nextInt(3) != 0 ? "*" : field(random, 1, 12);
  }

  static String dayOfWeek(SplittableRandom random) {
    return random.nextInt(3) != 0
        ? "*"
        : random.nextInt(4) == 0
            ? pick(random, "MON-FRI", "SAT,SUN", "sun", "7")
            : field(random, 0, 7);
  }

  /** A 5-field Vixie expression. */
  static String vixie(SplittableRandom random) {
    return minute(random)
        + " "
        + hour(random)
        + " "
        + dayOfMonth(random)
        + " "
        + month(random)
        + " "
        + dayOfWeek(random);
  }

  /** A 6-field Vixie expression with a seconds field. */
  static String vixieWithSeconds(SplittableRandom random) {
    String second =
        random.nextInt(2) == 0
            ? pick(random, "0", "30", "*/20", "0,15,45", "*/10")
            : field(random, 0, 59);
    return second + " " + vixie(random);
  }

  /** A Quartz expression using ?, L, W and #. */
  static String quartz(SplittableRandom random) {
    String second = pick(random, "0", "30", "*/20", "0/30");
    String minute = pick(random, "0", "15", "0/30", "*/20", "5-10");
    String hour =
        random.nextInt(2) == 0
            ? pick(random, "*", "2", "0-3", "1,13", "*/6")
            : field(random, 0, 23);
    String month = random.nextInt(3) == 0 ? field(random, 1, 12) : "*";
    String dayOfMonth;
    String dayOfWeek;
    if (random.nextBoolean()) {
      dayOfWeek = "?";
      dayOfMonth =
          switch (random.nextInt(6)) {
            case 0 -> "L";
            case 1 -> "LW";
            case 2 -> random.nextInt(1, 29) + "W";
            case 3 -> "L-" + random.nextInt(1, 6);
            case 4 -> "*";
            default -> field(random, 1, 31);
          };
    } else {
      dayOfMonth = "?";
      dayOfWeek =
          switch (random.nextInt(5)) {
            case 0 -> random.nextInt(1, 8) + "L";
            case 1 -> random.nextInt(1, 8) + "#" + random.nextInt(1, 5);
            case 2 -> pick(random, "MON-FRI", "SAT", "SUN", "L");
            case 3 -> "*";
            default -> field(random, 1, 7);
          };
    }
    String text =
        second + " " + minute + " " + hour + " " + dayOfMonth + " " + month + " " + dayOfWeek;
    return random.nextInt(4) == 0 ? text + " " + pick(random, "*", "2020-2040", "2024/2") : text;
  }
}
