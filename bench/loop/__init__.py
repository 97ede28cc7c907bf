"""The headline benchmark (``twinric bench loop``): does the twin make a better controller?"""
